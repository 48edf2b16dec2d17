"""Personal data: encryption at rest, keyed lookup hashes, and masking for display."""

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


def _derive(purpose):
    secret = current_app.config["DATA_KEY"].encode()
    return hmac.new(secret, purpose.encode(), hashlib.sha256).digest()


def encrypt(text):
    """Encrypt a sensitive value for storage (Fernet: AES-128-CBC with an HMAC)."""
    if text is None:
        return None
    key = base64.urlsafe_b64encode(_derive("neighbors.encryption.v1"))
    return Fernet(key).encrypt(text.encode()).decode()


def decrypt(token):
    """Decrypt a stored value; a value that was tampered with raises ValueError."""
    if token is None:
        return None
    key = base64.urlsafe_b64encode(_derive("neighbors.encryption.v1"))
    try:
        return Fernet(key).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("stored value cannot be decrypted with the configured DATA_KEY") from exc


def lookup_hash(text):
    """A keyed hash of a normalised value, so it can be found without being stored in clear."""
    return hmac.new(_derive("neighbors.lookup.v1"), text.encode(), hashlib.sha256).hexdigest()


def mask_phone(phone):
    """13812345678 -> 138****5678."""
    if not phone:
        return ""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_name(name):
    """张三 -> 张*, 欧阳娜娜 -> 欧***, Alice Smith -> A**********."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)


def mask_email(email):
    """alice@example.org -> a****@example.org."""
    if not email or "@" not in email:
        return ""
    local, domain = email.rsplit("@", 1)
    return local[0] + "*" * max(len(local) - 1, 1) + "@" + domain
