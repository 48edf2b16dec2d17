"""Sending text messages (SMS) through a provider adapter chosen by SMS_PROVIDER.

`console` writes each message to the log with the number masked (the development default),
`file` writes one JSON file per message into SMS_FILE_DIR (keys `to`, `template`, `params`,
`text`), and `aliyun` calls Alibaba Cloud's SMS API (dysmsapi SendSms, RPC signature version 1.0,
HMAC-SHA1) with a registered template and its parameters.

Each send returns a mail.Outcome, so the SMS outbox is delivered by the same rules as e-mail: a
message is tried again only when the provider certainly did not take it. A request whose answer
never came (a timeout after it was sent, a connection lost mid-way) may have been delivered, so
it is never sent again.
"""

import base64
import hashlib
import hmac
import http.client
import json
import logging
import ssl
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

from neighbors.core.mail import SENT, Outcome
from neighbors.core.privacy import mask_phone

logger = logging.getLogger(__name__)

PROVIDERS = ("console", "file", "aliyun")

# Alibaba Cloud answers that mean "not now": try the message again later (counted, with back-off).
ALIYUN_RETRY = {
    "isv.BUSINESS_LIMIT_CONTROL",  # too many to one number in a minute, hour or day
    "Throttling",
    "Throttling.User",
    "Throttling.Api",
    "isp.SYSTEM_ERROR",
    "ServiceUnavailable",
    "InternalError",
}
# Answers about the account or the configuration, not the message: every message would get the
# same, so none is used up and all wait until the operator fixes it (an outage loses nothing).
ALIYUN_ACCOUNT = {
    "InvalidAccessKeyId.NotFound",
    "InvalidAccessKeyId.Inactive",
    "SignatureDoesNotMatch",
    "SignatureNonceUsed",
    "InvalidTimeStamp.Expired",
    "isp.RAM_PERMISSION_DENY",
    "isv.AMOUNT_NOT_ENOUGH",
    "isv.ACCOUNT_NOT_EXISTS",
    "isv.ACCOUNT_ABNORMAL",
    "isv.OUT_OF_SERVICE",
    "isv.SMS_SIGNATURE_ILLEGAL",
    "isv.SMS_TEMPLATE_ILLEGAL",
    "Forbidden.RAM",
}
# A template variable is cut to this many characters (the provider refuses longer ones).
PARAM_MAX = 35


def connection(config):
    """A sender for a batch of messages, chosen by SMS_PROVIDER (None: console)."""
    provider = config.get("SMS_PROVIDER") or "console"
    if provider == "file":
        return FileSender(config)
    if provider == "aliyun":
        return AliyunSender(config)
    if provider == "console":
        return ConsoleSender(config)
    raise RuntimeError(f"SMS_PROVIDER must be one of {', '.join(PROVIDERS)}, not {provider!r}")


class ConsoleSender:
    """Development: the message goes to the log, the number masked."""

    def __init__(self, config):
        self.config = config

    def send(self, phone, template, params, text, locale):
        logger.info("SMS to %s (%s): %s", mask_phone(phone), template, text)
        return SENT

    def close(self):
        pass


class FileSender:
    """Development and tests: one JSON file per message, for a person or a test to read."""

    def __init__(self, config):
        self.folder = Path(config["SMS_FILE_DIR"] or "sms")
        self.folder.mkdir(parents=True, exist_ok=True)

    def send(self, phone, template, params, text, locale):
        record = {"to": phone, "template": template, "params": params, "text": text}
        # Named in the order sent (then unique), so that the folder lists them as they came.
        path = self.folder / f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.json"
        path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        return SENT

    def close(self):
        pass


def percent_encode(value):
    """Alibaba Cloud's percent-encoding (RFC 3986: only A-Z a-z 0-9 - _ . ~ left as they are)."""
    return quote(str(value), safe="-_.~")


def aliyun_signature(params, secret, method="POST"):
    """The RPC signature (version 1.0) of a request's parameters: HMAC-SHA1 with the secret and
    "&" over METHOD&%2F&<the sorted, encoded query, encoded again>, in base64."""
    query = "&".join(
        f"{percent_encode(key)}={percent_encode(value)}"
        for key, value in sorted(params.items())
        if key != "Signature"
    )
    string_to_sign = f"{method}&{percent_encode('/')}&{percent_encode(query)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSender:
    """Alibaba Cloud SMS (短信服务): one signed SendSms POST per message.

    The template to use is SMS_ALIYUN_TEMPLATES[template]: a template code ("SMS_123456789"), or
    a code per language ({"zh": "SMS_1", "en": "SMS_2"}), registered with the provider with the
    variables the notice has (README, "Text messages")."""

    def __init__(self, config):
        self.config = config
        self.endpoint = urlsplit(config["SMS_ALIYUN_ENDPOINT"])
        self.timeout = config["SMS_TIMEOUT"]
        self.unavailable = None  # set once the provider cannot be reached, for the whole batch

    def template_code(self, template, locale):
        codes = (self.config.get("SMS_ALIYUN_TEMPLATES") or {}).get(template)
        if isinstance(codes, dict):
            return codes.get(locale) or codes.get("zh") or next(iter(codes.values()), None)
        return codes

    def parameters(self, phone, code, params, now=None):
        now = now or datetime.now(UTC)
        values = {str(key): str(value)[:PARAM_MAX] for key, value in (params or {}).items()}
        return {
            "AccessKeyId": self.config["SMS_ALIYUN_ACCESS_KEY_ID"] or "",
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": phone,
            "RegionId": self.config["SMS_ALIYUN_REGION"],
            "SignName": self.config["SMS_ALIYUN_SIGN_NAME"] or "",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": code,
            "TemplateParam": json.dumps(values, ensure_ascii=False, separators=(",", ":")),
            "Timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }

    def send(self, phone, template, params, text, locale):
        if self.unavailable:
            return self.unavailable
        code = self.template_code(template, locale)
        if not code:
            # A configuration gap, not the message's fault: it waits for the template.
            error = f"no Alibaba Cloud template code for {template!r} (SMS_ALIYUN_TEMPLATES)"
            return Outcome(False, retry=True, error=error, counted=False)
        params = self.parameters(phone, code, params)
        params["Signature"] = aliyun_signature(
            params, self.config["SMS_ALIYUN_ACCESS_KEY_SECRET"] or ""
        )
        body = urlencode(params, quote_via=quote, safe="-_.~")
        connection = self._connection()
        try:
            try:
                connection.connect()
            except (OSError, http.client.HTTPException) as exc:  # never reached: nothing sent
                self.unavailable = Outcome(
                    False, retry=True, error=f"cannot reach the SMS provider: {exc}", counted=False
                )
                return self.unavailable
            try:
                connection.request(
                    "POST",
                    self.endpoint.path or "/",
                    body=body.encode(),
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                        "Accept": "application/json",
                    },
                )
                response = connection.getresponse()
                status, payload = response.status, response.read(65536)
            except (OSError, http.client.HTTPException) as exc:  # timeouts too
                # Sent, but no answer: the provider may have taken it, so it is not resent.
                return Outcome(False, error=f"no answer from the SMS provider; not resent: {exc}")
        finally:
            connection.close()
        return self._outcome(status, payload)

    def _connection(self):
        host, port = self.endpoint.hostname, self.endpoint.port
        if self.endpoint.scheme == "https":
            context = ssl.create_default_context()
            return http.client.HTTPSConnection(host, port, timeout=self.timeout, context=context)
        return http.client.HTTPConnection(host, port, timeout=self.timeout)

    def _outcome(self, status, payload):
        try:
            answer = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            answer = {}
        code = str(answer.get("Code") or "") if isinstance(answer, dict) else ""
        if status == 200 and code == "OK":
            return SENT
        error = f"{status} {code or 'no code'}: {str(answer.get('Message', ''))[:300]}"
        if code in ALIYUN_ACCOUNT:
            logger.error("the SMS provider refuses the account: %s", error)
            self.unavailable = Outcome(False, retry=True, error=error, counted=False)
            return self.unavailable
        if code in ALIYUN_RETRY or status == 429 or (status >= 500 and not code):
            return Outcome(False, retry=True, error=error)
        return Outcome(False, error=error)

    def close(self):
        pass
