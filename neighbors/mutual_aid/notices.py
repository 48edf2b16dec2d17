"""Notices about micro-wishes, sent by each person's channel (e-mail, SMS or both) through
accounts' notify: templates/mutual_aid/mail/<notice>.txt (first line the subject, the rest the
body) and templates/mutual_aid/sms/<notice>.txt (one short text)."""

import logging

from neighbors.accounts import services as accounts

logger = logging.getLogger(__name__)

NOTICES = (
    "to_vet",  # staff: a wish waits for vetting
    "published",  # the asker: on the wall
    "rejected",  # the asker: not accepted, with the note
    "claimed",  # the asker: a volunteer took it
    "to_confirm",  # staff: fulfilled, to confirm
    "thanks",  # the claimer: confirmed, minutes and points
    "released_claim",  # the claimer: staff released the claim
    "back_on_wall",  # the asker: released, waits for another volunteer
    "expired",  # the claimer: the claim ran out
)


def notify(person, wish, notice, link="", **extra):
    """Queue one notice about the wish in the person's language by their channel(s), in the
    current unit of work; returns the channels (none for an inactive person or none at all)."""
    if notice not in NOTICES:
        raise ValueError(f"unknown notice {notice!r}")
    if person is None or not person.active:
        return []
    return accounts.notify(person, f"mutual_aid/{notice}", title=wish.title, link=link, **extra)
