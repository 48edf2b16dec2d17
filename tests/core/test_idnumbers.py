"""Identity numbers: the resident ID's GB 11643-1999 check character (ISO 7064 MOD 11-2) and
the volunteer numbers we issue (ISO 7064 MOD 37,36)."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neighbors.core import idnumbers

DIGITS = "0123456789"


def test_the_standards_own_examples():
    # GB 11643-1999's examples, and one whose check character is X.
    assert idnumbers.resident_check_char("11010519491231002") == "X"
    assert idnumbers.resident_check_char("44052418800101001") == "4"
    parsed = idnumbers.parse_resident_id("11010519491231002x")
    assert parsed.number == "11010519491231002X"
    assert parsed.birth_date == date(1949, 12, 31) and parsed.gender == "female"
    assert idnumbers.parse_resident_id("440524188001010014").gender == "male"


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002",  # 17 characters
        "110105194912310021",  # wrong check character
        "11010519491331002X",  # month 13
        "1101051949123100XX",  # X before the end
        "11010520991231002X",  # born in the future
    ],
)
def test_bad_resident_ids_are_refused(number):
    with pytest.raises(idnumbers.BadNumber):
        idnumbers.parse_resident_id(number, today=date(2026, 12, 2))


birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 12, 1))


@given(
    region=st.text(DIGITS, min_size=6, max_size=6),
    born=birth_dates,
    sequence=st.integers(0, 999),
)
def test_resident_id_round_trip_and_every_single_wrong_digit_is_caught(region, born, sequence):
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    number = first17 + idnumbers.resident_check_char(first17)
    parsed = idnumbers.parse_resident_id(number, today=date(2026, 12, 2))
    assert (parsed.number, parsed.birth_date) == (number, born)
    assert parsed.gender == ("male" if sequence % 2 else "female")
    for position in range(17):
        for digit in DIGITS:
            if digit != number[position]:
                typo = number[:position] + digit + number[position + 1 :]
                assert idnumbers.resident_check_char(typo[:17]) != typo[17]


@given(
    code=st.text(DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=12),
    sequence=st.integers(1, 9_999_999),
)
def test_volunteer_numbers_round_trip_and_catch_any_single_wrong_character(code, sequence):
    number = idnumbers.volunteer_number(code, sequence)
    assert number.startswith(f"{code}-{sequence:07d}") and len(number) == len(code) + 9
    assert idnumbers.volunteer_number_valid(number)
    for position, char in enumerate(number):
        if char == "-":
            continue
        for other in DIGITS + "AZ":
            if other != char:
                typo = number[:position] + other + number[position + 1 :]
                assert not idnumbers.volunteer_number_valid(typo), typo


def test_masked_id_numbers_keep_only_the_region_and_the_last_four():
    assert idnumbers.mask_id_number("11010519491231002X") == "1101**********002X"
    assert idnumbers.mask_id_number("E1234567") == "********"
    assert idnumbers.mask_id_number(None) == ""
