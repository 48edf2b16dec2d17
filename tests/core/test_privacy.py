"""Masking and encryption of personal data."""

import pytest

from neighbors.core import privacy


def test_masks():
    assert privacy.mask_phone("13812345678") == "138****5678"
    assert privacy.mask_name("张三") == "张*"
    assert privacy.mask_name("欧阳娜娜") == "欧***"
    assert privacy.mask_email("alice@example.org") == "a****@example.org"
    assert privacy.mask_phone(None) == ""


def test_encryption_round_trip_and_tampering(ctx):
    token = privacy.encrypt("13812345678")
    assert "13812345678" not in token
    assert privacy.decrypt(token) == "13812345678"
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(ValueError):
        privacy.decrypt(tampered)


def test_lookup_hash_depends_on_the_key(app, ctx):
    first = privacy.lookup_hash("13812345678")
    assert first == privacy.lookup_hash("13812345678")
    app.config["DATA_KEY"] = "another key"
    try:
        assert privacy.lookup_hash("13812345678") != first
    finally:
        app.config["DATA_KEY"] = "testing-data-key"
