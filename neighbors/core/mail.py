"""Sending e-mail: over SMTP when MAIL_SERVER is set, else into MAIL_FILE_DIR or the log.

The SMTP conversation is taken step by step so that each failure is known for what it is: a
refusal (4xx: try later; 5xx: give up) or a connection lost while the message was being handed
over, after which nobody knows whether it arrived, so it is not sent again.
"""

import contextlib
import logging
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import NamedTuple

from neighbors.core.privacy import mask_email

logger = logging.getLogger(__name__)


class Outcome(NamedTuple):
    """What became of one message: sent; else whether to try again, and why not."""

    sent: bool
    retry: bool = False
    error: str | None = None
    counted: bool = True  # False: the server was not reached, so no attempt is used up


SENT = Outcome(True)


def build(sender, to_address, subject, body, attachment=None):
    """The message as sent: UTF-8 body, encoded headers, a Message-ID of the sender's domain,
    and the attachment (file name, content type, bytes) if any."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to_address
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    message.set_content(body, charset="utf-8", cte="base64")
    if attachment is not None:
        filename, content_type, data = attachment
        maintype, _, subtype = content_type.partition(";")[0].strip().partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message


@contextlib.contextmanager
def connection(config):
    """A sender for a batch of messages, chosen by the configuration; closed afterwards."""
    if config.get("MAIL_SERVER"):
        sender = SMTPSender(config)
    elif config.get("MAIL_FILE_DIR"):
        sender = FileSender(config)
    else:
        sender = LogSender(config)
    try:
        yield sender
    finally:
        sender.close()


class SMTPSender:
    """One SMTP connection for a batch, opened at the first message, reopened after a loss."""

    def __init__(self, config):
        self.config = config
        self.smtp = None
        self.unreachable = None

    def _connect(self):
        config = self.config
        host, port = config["MAIL_SERVER"], int(config["MAIL_PORT"])
        timeout = config["MAIL_TIMEOUT"]
        context = ssl.create_default_context()
        if config["MAIL_USE_SSL"]:
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        try:
            smtp.ehlo()
            if config["MAIL_USE_TLS"]:
                smtp.starttls(context=context)
                smtp.ehlo()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        except Exception:
            smtp.close()
            raise
        self.smtp = smtp

    def send(self, to_address, subject, body, attachment=None):
        message = build(self.config["MAIL_DEFAULT_SENDER"], to_address, subject, body, attachment)
        if self.smtp is None:
            if self.unreachable:  # one failed connection per batch is enough
                return self.unreachable
            try:
                self._connect()
            except (OSError, smtplib.SMTPException) as exc:  # incl. a refused login
                error = f"cannot reach or log in to the mail server: {exc}"[:500]
                self.unreachable = Outcome(False, retry=True, error=error, counted=False)
                return self.unreachable
        handing_over = False
        try:
            for command, argument in (("mail", message["From"]), ("rcpt", to_address)):
                code, reply = getattr(self.smtp, command)(argument)
                if code >= 400:
                    self.smtp.rset()
                    return _refused(code, reply)
            handing_over = True
            # CRLF line ends, as SMTP wants them: bare LFs make a message longer than 1,000
            # bytes one "line too long" for a strict server (an attachment always is).
            code, reply = self.smtp.data(
                message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
            )
            if code >= 400:  # the server answered the message with a refusal: it has none
                return _refused(code, reply)
            return SENT
        except smtplib.SMTPResponseException as exc:  # the server answered: it has no message
            self._drop_if_closed(exc.smtp_code)
            return _refused(exc.smtp_code, exc.smtp_error)
        except UnicodeEncodeError:  # an address plain SMTP cannot carry (not ASCII)
            self._drop_if_closed(0)
            return Outcome(False, error="the address is not ASCII: plain SMTP cannot send it")
        except Exception as exc:  # timeouts, lost connections, anything else: never a crash
            self._drop()
            if handing_over:
                return Outcome(False, error=f"connection lost while sending; not resent: {exc}")
            return Outcome(False, retry=True, error=f"connection lost: {exc}")

    def _drop_if_closed(self, code):
        if code in (421, -1):
            self._drop()
        else:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.smtp.rset()

    def _drop(self):
        if self.smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.smtp.close()
        self.smtp = None

    def close(self):
        if self.smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.smtp.quit()
        self._drop()


def _refused(code, reply):
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    return Outcome(False, retry=400 <= code < 500, error=f"{code} {text}"[:500])


class FileSender:
    """Development: each message becomes an .eml file that a mail program opens."""

    def __init__(self, config):
        self.config = config
        self.folder = Path(config["MAIL_FILE_DIR"])
        self.folder.mkdir(parents=True, exist_ok=True)

    def send(self, to_address, subject, body, attachment=None):
        message = build(self.config["MAIL_DEFAULT_SENDER"], to_address, subject, body, attachment)
        (self.folder / f"{uuid.uuid4().hex}.eml").write_bytes(message.as_bytes())
        return SENT

    def close(self):
        pass


class LogSender:
    """Development without a mail server: the message goes to the log, its address masked
    (production never gets here: outbox.deliver keeps its e-mail waiting)."""

    def __init__(self, config):
        self.config = config

    def send(self, to_address, subject, body, attachment=None):
        attached = f"\n[attached: {attachment[0]}]" if attachment else ""
        logger.info("e-mail to %s: %s\n%s%s", mask_email(to_address), subject, body, attached)
        return SENT

    def close(self):
        pass
