"""Personal data: encryption at rest, keyed lookup hashes, and masking for display.

Keys are derived from DATA_KEY (the current key) and OLD_DATA_KEYS (keys being rotated out):
values are encrypted and hashed under the current key only, read under any of them, and looked
up by the hash under each. `neighbors keys rotate` then rewrites everything under the current key.
"""

import base64
import functools
import hashlib
import hmac
import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

logger = logging.getLogger(__name__)

# Shown in place of a stored value that none of the configured keys can decrypt.
UNREADABLE = "—"

ENCRYPTION = "neighbors.encryption.v1"
LOOKUP = "neighbors.lookup.v1"


class Undecryptable(ValueError):
    """A stored value that was tampered with, or was encrypted under a key not configured."""


def data_keys():
    """The configured secrets, current first: DATA_KEY, then each of OLD_DATA_KEYS."""
    keys = [current_app.config["DATA_KEY"], *current_app.config.get("OLD_DATA_KEYS", ())]
    return tuple(dict.fromkeys(key for key in keys if key))


def _derive(secret, purpose):
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()


# Cached by the secrets themselves, so a changed configuration is never served stale keys.
@functools.lru_cache(maxsize=16)
def _fernets(secrets):
    return [Fernet(base64.urlsafe_b64encode(_derive(s, ENCRYPTION))) for s in secrets]


@functools.lru_cache(maxsize=16)
def _lookup_keys(secrets):
    return [_derive(s, LOOKUP) for s in secrets]


def encrypt(text):
    """Encrypt a sensitive value for storage under the current key (Fernet: AES-128-CBC with an
    HMAC)."""
    if text is None:
        return None
    return _fernets(data_keys())[0].encrypt(text.encode()).decode()


def decrypt(token):
    """Decrypt a stored value under the current or an old key.

    Raises Undecryptable (a ValueError) for a value that was tampered with or whose key is not
    configured."""
    if token is None:
        return None
    try:
        return MultiFernet(_fernets(data_keys())).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise Undecryptable(
            "stored value cannot be decrypted with DATA_KEY or OLD_DATA_KEYS"
        ) from exc


def readable(token):
    """Decrypt a value for display: UNREADABLE (and a warning in the log) when no configured
    key can decrypt it, so that one such value shows as a dash instead of breaking the page."""
    try:
        return decrypt(token)
    except Undecryptable:
        logger.warning("a stored value cannot be decrypted with DATA_KEY or OLD_DATA_KEYS")
        return UNREADABLE


def is_current(token):
    """True when a stored value is encrypted under the current key (rotation skips it)."""
    try:
        _fernets(data_keys())[0].decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def lookup_hash(text):
    """A keyed hash of a normalised value under the current key, to store beside it so it can be
    found without being stored in clear."""
    return lookup_hashes(text)[0]


def lookup_hashes(text):
    """The keyed hash of a value under each configured key, current first: find a row with
    `column.in_(lookup_hashes(value))`, so rows not yet rotated are found too."""
    keys = _lookup_keys(data_keys())
    return [hmac.new(key, text.encode(), hashlib.sha256).hexdigest() for key in keys]


def mask_phone(phone):
    """13812345678 -> 138****5678."""
    if not phone:
        return ""
    if phone == UNREADABLE:
        return phone
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
