"""Outbox delivery over a real SMTP conversation: what arrives, retries, and never twice."""

import ssl
from datetime import timedelta

import pytest
from sqlalchemy import select

from neighbors.core import outbox
from neighbors.core.db import transaction, utcnow
from neighbors.core.outbox import MessageStatus, OutboxMessage
from neighbors.extensions import db
from tests.servers import Inbox, free_port, self_signed_certificate


def queued(to="li@example.org", subject="活动提醒：清扫楼道", body="你好，李静：\n明天见。\n"):
    with transaction():
        return outbox.queue(to, subject, body).id


def status(message_id):
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def test_a_message_arrives_with_its_chinese_subject_and_body(ctx, inbox):
    message_id = queued()
    assert outbox.deliver() == {"sent": 1, "retry": 0, "failed": 0}
    [message] = inbox.messages
    assert message["To"] == "li@example.org"
    assert message["From"] == "neighbors@localhost"
    assert message["Subject"] == "活动提醒：清扫楼道"
    assert message.get_content() == "你好，李静：\n明天见。\n"
    assert status(message_id).status == MessageStatus.SENT
    assert outbox.deliver() == {"sent": 0, "retry": 0, "failed": 0}  # and only once
    assert len(inbox.messages) == 1


def test_a_message_arrives_with_its_attachment(ctx, inbox):
    """A report goes out as a file: the body as text, the XLSX beside it, named and typed."""
    from neighbors.core.exports import XLSX, Column, Report, xlsx_bytes

    report = Report("文安路社区", "年度反馈表", "2026", [Column("姓名"), Column("时长", "number")])
    data = xlsx_bytes(report, [["王建国", 3]])
    with transaction():
        outbox.queue(
            "branch@example.org", "2026 年度反馈表", "附件是反馈表。\n", ("反馈.xlsx", XLSX, data)
        )
    assert outbox.deliver()["sent"] == 1, db.session.scalar(select(OutboxMessage.last_error))
    [message] = inbox.messages
    assert message.get_body(("plain",)).get_content() == "附件是反馈表。\n"
    [attached] = list(message.iter_attachments())
    assert attached.get_filename() == "反馈.xlsx" and attached.get_content_type() == XLSX
    assert attached.get_content() == data


def test_a_temporary_refusal_is_tried_again_after_the_back_off(ctx, inbox):
    inbox.replies = ["451 4.3.0 try again later"]
    message_id = queued()
    now = utcnow()
    assert outbox.deliver(now) == {"sent": 0, "retry": 1, "failed": 0}
    message = status(message_id)
    assert message.status == MessageStatus.PENDING and "451" in message.last_error
    assert message.next_attempt_at == now + timedelta(minutes=1)
    assert outbox.deliver(now + timedelta(seconds=30))["sent"] == 0  # not before its time
    assert outbox.deliver(now + timedelta(minutes=1))["sent"] == 1
    assert len(inbox.messages) == 1 and status(message_id).attempts == 2


def test_a_permanent_refusal_fails_the_message_at_once(ctx, inbox):
    inbox.replies = ["550 5.1.1 no such mailbox"]
    message_id = queued()
    assert outbox.deliver()["failed"] == 1
    assert status(message_id).status == MessageStatus.FAILED
    assert outbox.deliver(utcnow() + timedelta(days=1))["sent"] == 0
    assert inbox.messages == []


def test_a_connection_lost_while_handing_over_is_not_sent_again(ctx, inbox):
    inbox.replies = ["drop"]
    message_id = queued()
    assert outbox.deliver()["failed"] == 1
    assert "not resent" in status(message_id).last_error
    outbox.deliver(utcnow() + timedelta(days=1))
    assert len(inbox.messages) == 1  # it had arrived: sending it again would duplicate it


def test_an_unreachable_server_keeps_the_messages_until_it_is_back(app, ctx, inbox, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nobody listens there
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 2)
    message_id = queued()
    now = utcnow()
    for hour in range(1, 5):  # an outage longer than the attempts allow: nothing is given up
        assert outbox.deliver(now + timedelta(hours=hour)) == {"sent": 0, "retry": 1, "failed": 0}
    message = status(message_id)
    assert message.status == MessageStatus.PENDING and message.attempts == 0
    assert "cannot reach" in message.last_error
    monkeypatch.setitem(app.config, "MAIL_PORT", inbox.port)  # the server is back
    assert outbox.deliver(now + timedelta(hours=5))["sent"] == 1
    assert len(inbox.messages) == 1


def test_a_message_that_cannot_be_sent_does_not_hold_up_the_batch(ctx, inbox):
    ids = [queued(to="li@example.org"), queued(to="张三@例子.中国"), queued(to="wang@example.org")]
    assert outbox.deliver() == {"sent": 2, "retry": 0, "failed": 1}
    assert [status(i).status for i in ids] == ["sent", "failed", "sent"]
    assert "not ASCII" in status(ids[1]).last_error


def test_one_refused_address_does_not_hold_up_the_others(ctx, inbox):
    inbox.replies = ["250 OK", "550 5.1.1 no such mailbox"]
    ids = [queued(to=f"p{n}@example.org") for n in range(3)]
    assert outbox.deliver() == {"sent": 2, "retry": 0, "failed": 1}
    assert [status(i).status for i in ids] == ["sent", "failed", "sent"]


def test_a_claim_left_by_a_sender_that_died_is_failed_not_resent(ctx, inbox):
    message_id = queued()
    with transaction():
        status(message_id).claimed_at = utcnow() - timedelta(hours=2)
    assert outbox.deliver()["failed"] == 1
    assert status(message_id).status == MessageStatus.FAILED and inbox.messages == []


def test_sent_and_failed_messages_are_pruned_after_the_keeping_time(ctx, inbox):
    inbox.replies = ["250 OK", "550 5.1.1 no such mailbox"]
    old, refused, recent = queued(), queued(), queued()
    outbox.deliver()
    with transaction():
        for message_id in (old, refused):
            db.session.get(OutboxMessage, message_id).created_at = utcnow() - timedelta(days=31)
    assert outbox.prune(utcnow(), timedelta(days=30)) == 2
    remaining = db.session.scalars(select(OutboxMessage.id)).all()
    assert remaining == [recent]


def test_development_without_a_server_writes_files(app, ctx, tmp_path, monkeypatch):
    import email
    from email.policy import default

    monkeypatch.setitem(app.config, "MAIL_FILE_DIR", str(tmp_path))
    queued(subject="Reminder", body="See you")
    assert outbox.deliver()["sent"] == 1
    [written] = tmp_path.glob("*.eml")
    message = email.message_from_bytes(written.read_bytes(), policy=default)
    assert message["Subject"] == "Reminder" and message.get_content() == "See you\n"


def test_production_without_a_server_keeps_mail_waiting_and_logs_no_body(
    app, ctx, monkeypatch, caplog
):
    monkeypatch.setitem(app.config, "ENV", "production")
    message_id = queued(body="秘密的内容")
    for hour in range(10):
        assert outbox.deliver(utcnow() + timedelta(hours=hour)) == {
            "sent": 0, "retry": 0, "failed": 0,
        }  # fmt: skip
    message = status(message_id)
    assert message.status == MessageStatus.PENDING and message.attempts == 0
    assert "秘密" not in caplog.text and "li@example.org" not in caplog.text


@pytest.mark.parametrize("password, delivered", [("s3cret", True), ("wrong", False)])
def test_starttls_and_login(app, ctx, tmp_path, monkeypatch, password, delivered):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    cert, key = self_signed_certificate(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login, auth_data.password) == (b"mailer", b"s3cret")
        return AuthResult(success=ok, handled=False)  # not handled: the server answers 535

    inbox = Inbox(free_port())
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=inbox.port,
        tls_context=tls,
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
    )
    controller.start()
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust the test certificate
        for name, value in dict(
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=inbox.port,
            MAIL_USE_TLS=True,
            MAIL_USERNAME="mailer",
            MAIL_PASSWORD=password,
        ).items():
            monkeypatch.setitem(app.config, name, value)
        queued()
        counts = outbox.deliver()
    finally:
        controller.stop()
    assert counts["sent"] == int(delivered) and len(inbox.messages) == int(delivered)
    if not delivered:  # a wrong password is the server refusing: kept for a later try
        assert counts["retry"] == 1
