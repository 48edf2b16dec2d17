"""Text messages: the provider adapters and the SMS outbox, against Alibaba Cloud's published
signing example and a local HTTP server that answers as the provider does (success, refusals,
throttling, silence, an outage)."""

import json
import logging
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest

from neighbors.core import sms, sms_outbox
from neighbors.core.db import transaction, utcnow
from neighbors.core.outbox import MessageStatus
from neighbors.core.sms_outbox import SmsMessage
from neighbors.extensions import db
from tests.servers import free_port

PHONE = "13812345678"
SECRET = "local-test-secret"  # noqa: S105 (the local provider's)


def test_the_signature_matches_the_providers_published_example():
    # Alibaba Cloud's SMS documentation, "签名机制": this request, signed with the secret
    # testSecret, has the signature zJDF+Lrzhj/ThnlvIToysFRq6t4=.
    params = {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "OutId": "123",
        "PhoneNumbers": "15300000001",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }
    assert sms.aliyun_signature(params, "testSecret", method="GET") == (
        "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    )
    assert sms.aliyun_signature(params, "otherSecret", method="GET") != (
        "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    )


class Provider(BaseHTTPRequestHandler):
    """Answers SendSms as Alibaba Cloud does; `server.replies` are used in turn, then OK."""

    def do_POST(self):  # noqa: N802 (http.server's name)
        length = int(self.headers["Content-Length"])
        params = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
        self.server.requests.append(params)
        reply = self.server.replies.pop(0) if self.server.replies else (200, "OK")
        status, code = reply
        if status == "silent":  # never answers within the client's timeout
            time.sleep(code)
            return
        body = {"RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990", "Code": code}
        body["Message"] = "OK" if code == "OK" else "refused"
        if code == "OK":
            body["BizId"] = "900619746936498440^0"
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def provider(app):
    """A local provider on a free port, and the app configured to send to it."""
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Provider)
    server.requests, server.replies = [], []
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings = {
        "SMS_PROVIDER": "aliyun",
        "SMS_ALIYUN_ENDPOINT": f"http://127.0.0.1:{server.server_address[1]}/",
        "SMS_ALIYUN_ACCESS_KEY_ID": "LTAI-local",
        "SMS_ALIYUN_ACCESS_KEY_SECRET": SECRET,
        "SMS_ALIYUN_SIGN_NAME": "邻里",
        "SMS_ALIYUN_TEMPLATES": {"events/promoted": {"zh": "SMS_100", "en": "SMS_200"}},
        "SMS_TIMEOUT": 1,
    }
    saved = {name: app.config[name] for name in settings}
    app.config.update(settings)
    try:
        yield server
    finally:
        app.config.update(saved)
        server.shutdown()
        server.server_close()


def queued(locale="zh", params=None, template="events/promoted"):
    with transaction():
        return sms_outbox.queue(
            PHONE, template, params or {"title": "清扫楼道", "when": "2026-12-05 09:00"},
            "您已获得名额：清扫楼道", locale,
        ).id  # fmt: skip


def status(message_id):
    db.session.expire_all()
    return db.session.get(SmsMessage, message_id)


def test_a_message_is_sent_once_signed_with_the_template_for_its_language(ctx, provider):
    zh, en = queued("zh"), queued("en")
    assert sms_outbox.deliver() == {"sent": 2, "retry": 0, "failed": 0}
    first, second = provider.requests
    assert first["Action"] == "SendSms" and first["PhoneNumbers"] == PHONE
    assert (first["TemplateCode"], second["TemplateCode"]) == ("SMS_100", "SMS_200")
    assert first["SignName"] == "邻里" and first["AccessKeyId"] == "LTAI-local"
    assert json.loads(first["TemplateParam"]) == {"title": "清扫楼道", "when": "2026-12-05 09:00"}
    # The provider recomputes the signature from what it received: it matches.
    assert first["Signature"] == sms.aliyun_signature(first, SECRET, method="POST")
    assert first["SignatureNonce"] != second["SignatureNonce"]
    assert {status(zh).status, status(en).status} == {MessageStatus.SENT}
    assert sms_outbox.deliver() == {"sent": 0, "retry": 0, "failed": 0}  # and only once
    assert len(provider.requests) == 2


def test_throttling_is_tried_again_after_the_back_off(ctx, provider):
    provider.replies = [(200, "isv.BUSINESS_LIMIT_CONTROL")]
    message_id = queued()
    now = utcnow()
    assert sms_outbox.deliver(now) == {"sent": 0, "retry": 1, "failed": 0}
    message = status(message_id)
    assert message.status == MessageStatus.PENDING and "BUSINESS_LIMIT" in message.last_error
    assert message.next_attempt_at == now + timedelta(minutes=1)
    assert sms_outbox.deliver(now + timedelta(seconds=30))["sent"] == 0  # not before its time
    assert sms_outbox.deliver(now + timedelta(minutes=1))["sent"] == 1
    assert len(provider.requests) == 2 and status(message_id).attempts == 2


def test_a_refused_number_fails_at_once_and_is_not_tried_again(ctx, provider):
    provider.replies = [(200, "isv.MOBILE_NUMBER_ILLEGAL")]
    message_id = queued()
    assert sms_outbox.deliver()["failed"] == 1
    assert status(message_id).status == MessageStatus.FAILED
    assert sms_outbox.deliver(utcnow() + timedelta(days=1))["sent"] == 0
    assert len(provider.requests) == 1


def test_a_provider_error_answer_is_tried_again_until_the_attempts_are_used_up(app, ctx, provider):
    provider.replies = [(500, "isp.SYSTEM_ERROR")] * 3
    app.config["SMS_MAX_ATTEMPTS"] = 3
    try:
        message_id = queued()
        now = utcnow()
        for minutes in (0, 1, 3):
            sms_outbox.deliver(now + timedelta(minutes=minutes))
    finally:
        app.config["SMS_MAX_ATTEMPTS"] = 8
    assert status(message_id).status == MessageStatus.FAILED
    assert len(provider.requests) == 3


def test_no_answer_within_the_timeout_is_never_sent_again(ctx, provider):
    provider.replies = [("silent", 2)]
    message_id = queued()
    assert sms_outbox.deliver() == {"sent": 0, "retry": 0, "failed": 1}
    message = status(message_id)
    assert message.status == MessageStatus.FAILED and "not resent" in message.last_error
    time.sleep(1.2)  # the silent answer's thread ends
    assert sms_outbox.deliver(utcnow() + timedelta(hours=1))["sent"] == 0
    assert len(provider.requests) == 1  # it may have arrived: never twice


def test_an_outage_loses_nothing_and_uses_no_attempt(app, ctx, provider):
    port = provider.server_address[1]
    app.config["SMS_ALIYUN_ENDPOINT"] = f"http://127.0.0.1:{free_port()}/"  # nobody listens
    ids = [queued(), queued()]
    now = utcnow()
    assert sms_outbox.deliver(now) == {"sent": 0, "retry": 2, "failed": 0}
    for _ in range(3):  # an outage of hours: still waiting, no attempt used up
        now += timedelta(minutes=20)
        sms_outbox.deliver(now)
    assert [(status(i).status, status(i).attempts) for i in ids] == [("pending", 0)] * 2
    app.config["SMS_ALIYUN_ENDPOINT"] = f"http://127.0.0.1:{port}/"  # back
    assert sms_outbox.deliver(now + timedelta(minutes=1))["sent"] == 2
    assert len(provider.requests) == 2


def test_a_refused_account_keeps_every_message_waiting(ctx, provider):
    provider.replies = [(400, "SignatureDoesNotMatch")]
    ids = [queued(), queued(), queued()]
    now = utcnow()
    assert sms_outbox.deliver(now) == {"sent": 0, "retry": 3, "failed": 0}
    assert len(provider.requests) == 1  # one refusal tells for the whole batch
    assert {status(i).status for i in ids} == {MessageStatus.PENDING}
    assert sms_outbox.deliver(now + timedelta(minutes=1))["sent"] == 3


def test_a_notice_without_a_registered_template_waits_for_one(app, ctx, provider):
    message_id = queued(template="events/reminder")
    now = utcnow()
    assert sms_outbox.deliver(now)["retry"] == 1 and provider.requests == []
    assert "SMS_ALIYUN_TEMPLATES" in status(message_id).last_error
    app.config["SMS_ALIYUN_TEMPLATES"] = {"events/reminder": "SMS_300"}
    assert sms_outbox.deliver(now + timedelta(minutes=1))["sent"] == 1
    assert provider.requests[0]["TemplateCode"] == "SMS_300"


def test_a_claim_left_by_a_sender_that_died_is_failed_not_resent(ctx, provider):
    message_id = queued()
    with transaction():
        status(message_id).claimed_at = utcnow() - timedelta(hours=2)
    assert sms_outbox.deliver()["failed"] == 1
    assert status(message_id).status == MessageStatus.FAILED and provider.requests == []


def test_long_template_variables_are_cut_to_what_the_provider_takes(ctx, provider):
    queued(params={"title": "长" * 50, "when": "2026-12-05 09:00"})
    sms_outbox.deliver()
    assert json.loads(provider.requests[0]["TemplateParam"])["title"] == "长" * sms.PARAM_MAX


def test_the_file_sender_writes_one_json_file_per_message(app, ctx, tmp_path):
    app.config.update(SMS_PROVIDER="file", SMS_FILE_DIR=str(tmp_path))
    try:
        queued()
        assert sms_outbox.deliver()["sent"] == 1
    finally:
        app.config.update(SMS_PROVIDER=None, SMS_FILE_DIR=None)
    [path] = tmp_path.glob("*.json")
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record == {
        "to": PHONE,
        "template": "events/promoted",
        "params": {"title": "清扫楼道", "when": "2026-12-05 09:00"},
        "text": "您已获得名额：清扫楼道",
    }


def test_the_console_logs_the_number_masked_and_the_database_keeps_it_encrypted(ctx, caplog):
    message_id = queued()
    with caplog.at_level(logging.INFO, logger="neighbors"):
        assert sms_outbox.deliver()["sent"] == 1
    assert "138****5678" in caplog.text and PHONE not in caplog.text
    stored = db.session.execute(
        db.select(SmsMessage.phone_encrypted).where(SmsMessage.id == message_id)
    ).scalar()
    assert PHONE not in stored


def test_production_without_a_provider_keeps_messages_waiting(app, ctx):
    message_id = queued()
    app.config["ENV"] = "production"
    try:
        assert sms_outbox.deliver() == {"sent": 0, "retry": 0, "failed": 0}
    finally:
        app.config["ENV"] = "testing"
    assert status(message_id).status == MessageStatus.PENDING


def test_an_unknown_provider_stops_the_app_from_starting():
    from neighbors import create_app

    with pytest.raises(RuntimeError, match="SMS_PROVIDER"):
        create_app({"ENV": "testing", "SMS_PROVIDER": "carrier-pigeon"})
