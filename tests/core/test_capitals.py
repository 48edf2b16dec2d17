"""Amounts in Chinese capital numerals (大写), as a voucher's total is written."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neighbors.core.capitals import DIGITS, capital

KNOWN = {
    "12345.67": "壹万贰仟叁佰肆拾伍元陆角柒分",
    "0": "零元整",
    "0.05": "伍分",
    "0.50": "伍角整",
    "1": "壹元整",
    "10": "壹拾元整",
    "15.00": "壹拾伍元整",
    "100": "壹佰元整",
    "1010": "壹仟零壹拾元整",
    "1001.01": "壹仟零壹元零壹分",
    "1680.32": "壹仟陆佰捌拾元叁角贰分",
    "16409.02": "壹万陆仟肆佰零玖元零贰分",
    "107000.53": "壹拾万零柒仟元伍角叁分",
    "325.04": "叁佰贰拾伍元零肆分",
    "50000.00": "伍万元整",
    "100000": "壹拾万元整",
    "100000001": "壹亿零壹元整",
    "100010000": "壹亿零壹万元整",
    "6007.14": "陆仟零柒元壹角肆分",
    "999999999999.99": "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分",
}


@pytest.mark.parametrize(("amount", "written"), KNOWN.items())
def test_known_amounts_are_written_as_the_rules_show(amount, written):
    assert capital(Decimal(amount)) == written


@pytest.mark.parametrize("amount", ["-0.01", "1000000000000"])
def test_amounts_out_of_range_are_refused(amount):
    with pytest.raises(ValueError):
        capital(Decimal(amount))


def read_back(text):
    """A capital amount's value, read as a person reads it (to check capital against)."""
    value, section, number = 0, 0, 0
    yuan, _, rest = text.rpartition("元") if "元" in text else ("", "", text)
    for character in yuan:
        if character in DIGITS:
            number = DIGITS.index(character)
        elif character in "拾佰仟":
            section += number * 10 ** ("拾佰仟".index(character) + 1)
            number = 0
        elif character == "万":
            value, section, number = value + (section + number) * 10_000, 0, 0
        elif character == "亿":
            value, section, number = (value + section + number) * 10**8, 0, 0
    value += section + number
    fen = number = 0
    for character in rest:
        if character in DIGITS:
            number = DIGITS.index(character)
        elif character in "角分":
            fen += number * (10 if character == "角" else 1)
    return Decimal(value) + Decimal(fen) / 100


@given(st.decimals(min_value=0, max_value=Decimal("999999999999.99"), places=2))
def test_every_amount_reads_back_as_itself_and_follows_the_rules(amount):
    text = capital(amount)
    assert read_back(text) == amount
    assert "零零" not in text and "零元" not in text[1:] and "零万" not in text
    assert not text.startswith("零") or amount < 1
    assert text.endswith("整") == (amount == amount.quantize(Decimal("0.1")))
    assert set(text) <= set(DIGITS + "拾佰仟万亿元角分整")
