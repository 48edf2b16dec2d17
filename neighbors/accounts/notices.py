"""Telling a person something: the one place that chooses the channel (e-mail, SMS or both).

Every feature's notices call notify(person, "<feature>/<notice>", **values) inside the unit of
work of the change; the message goes into the e-mail outbox, the SMS outbox or both, in the
person's language, and the scheduler sends it after commit. A notice has two templates:
`<feature>/mail/<notice>.txt` (first line the subject, the rest the body) and
`<feature>/sms/<notice>.txt` (one short text, within 70 characters where possible). Values are
plain strings or numbers: they are also the variables of the SMS provider's registered template
(except links: `link` and `*_link` are for e-mail).
"""

import logging

from flask import current_app, render_template

from neighbors.accounts.models import Channel
from neighbors.core import outbox, privacy, sms_outbox

logger = logging.getLogger(__name__)


def channels_of(person):
    """The channels a person is written to: the one they chose, where they have that contact;
    by default e-mail, and SMS for a person with only a phone number. Empty: no contact."""
    has_email, has_phone = bool(person.email), person.phone_encrypted is not None
    chosen = person.notify_channel or (Channel.EMAIL if has_email else Channel.SMS)
    ways = []
    if chosen in (Channel.EMAIL, Channel.BOTH) and has_email:
        ways.append(Channel.EMAIL)
    if chosen in (Channel.SMS, Channel.BOTH) and has_phone:
        ways.append(Channel.SMS)
    if not ways:  # the chosen contact was removed since: use the one there is
        ways = [Channel.EMAIL] if has_email else [Channel.SMS] if has_phone else []
    return ways


def notify(person, template, **values):
    """Queue one notice to the person by their channel(s), in their language; returns the
    channels used. template is "<feature>/<notice>", e.g. "events/promoted"."""
    feature, _slash, notice = template.partition("/")
    if not feature or not notice:
        raise ValueError(f"a notice is named '<feature>/<notice>', not {template!r}")
    ways = channels_of(person)
    locale = person.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    with outbox.language_of(person):
        if Channel.EMAIL in ways:
            text = render_template(f"{feature}/mail/{notice}.txt", person=person, **values)
            subject, body = text.split("\n", 1)
            outbox.queue(person.email, subject, body)
        if Channel.SMS in ways:
            try:
                phone = privacy.decrypt(person.phone_encrypted)
            except privacy.Undecryptable:
                logger.warning("user %s: the phone number cannot be decrypted; no SMS", person.id)
                ways.remove(Channel.SMS)
            else:
                text = render_template(f"{feature}/sms/{notice}.txt", person=person, **values)
                sms_outbox.queue(phone, template, _params(values), text.strip(), locale)
    return ways


def _params(values):
    """The SMS provider's template variables: the values but links (cut to the provider's 35
    characters they would not work, and providers vet links in templates apart)."""
    return {k: v for k, v in values.items() if k != "link" and not k.endswith("_link")}
