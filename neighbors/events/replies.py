"""Answers to the reminder: signed links "I'm coming" and "I can't come" that work without
signing in, once. A decline gives the place to the head of the waitlist at once; staff see on
the roster who said they are coming."""

import logging

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from neighbors.core import audit
from neighbors.core.db import transaction, utcnow
from neighbors.core.errors import Conflict, NotFound
from neighbors.core.links import absolute_url
from neighbors.events.models import EventStatus, Reply, Signup, SignupStatus
from neighbors.events.queries import locked_event
from neighbors.events.signups import release
from neighbors.extensions import db

logger = logging.getLogger(__name__)


def _signer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="reminder-reply")


def reply_token(signup, answer):
    """The signed token of one answer ("coming" or "declined") for this sign-up."""
    return _signer().dumps([signup.id, str(Reply(answer))])


def reply_links(signup):
    """The two links of a reminder, for this sign-up."""
    return {
        f"{answer}_link": absolute_url(
            "events.reply_to_reminder", token=reply_token(signup, answer)
        )
        for answer in (Reply.COMING, Reply.DECLINED)
    }


def read_reply(token):
    """The sign-up and the answer a link stands for. Raises NotFound for a link that is not
    genuine (tampered with, or made up)."""
    try:
        signup_id, answer = _signer().loads(token)
        answer = Reply(answer)
    except (BadSignature, ValueError, TypeError):
        raise NotFound(_("This link is not valid."), code="not_genuine") from None
    signup = db.session.get(Signup, signup_id) if isinstance(signup_id, int) else None
    if signup is None:
        raise NotFound(_("This link is not valid."), code="not_genuine")
    return signup, answer


def answer_reminder(token):
    """Record the answer a reminder's link stands for, once: "declined" cancels the sign-up and
    promotes the head of the waitlist in the same transaction.

    Raises NotFound (not genuine), Conflict (already answered, or the sign-up or event no longer
    takes answers: cancelled, started, checked in).
    """
    signup, answer = read_reply(token)
    with transaction():
        event = locked_event(signup.event_id)
        db.session.refresh(signup)  # as it is now, under the event's lock
        if signup.reply is not None:
            raise Conflict(_("You have answered this reminder already."), code="already_answered")
        if (
            signup.status != SignupStatus.CONFIRMED
            or event.status != EventStatus.PUBLISHED
            or utcnow() >= event.starts_at
            or signup.checked_in_at is not None
        ):
            raise Conflict(
                _("This sign-up no longer takes answers; please tell the staff."),
                code="answers_closed",
            )
        signup.reply, signup.replied_at = answer, utcnow()
        if answer == Reply.DECLINED:
            release(event, signup)
        audit.record(None, "signup.reply", signup, answer=str(answer))
    return signup, answer
