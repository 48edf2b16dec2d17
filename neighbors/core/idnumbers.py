"""Identity numbers and their check characters: the resident ID (GB 11643-1999, ISO 7064
MOD 11-2) and the volunteer numbers we issue (ISO 7064 MOD 37,36, any letters or digits)."""

import re
from dataclasses import dataclass
from datetime import date

# GB 11643-1999: weight of position i (from the left) is 2^(17-i) mod 11.
WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
RESIDENT_CHECK = "10X98765432"  # indexed by the weighted sum mod 11
ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class BadNumber(ValueError):
    """A number that is not well formed; str() says why, in English, for logs and tests."""


@dataclass(frozen=True)
class ResidentId:
    number: str  # 18 characters, a final x written X
    birth_date: date
    gender: str  # "male" (odd sequence) or "female" (even)


def resident_check_char(first17):
    """The check character of the first 17 digits of a resident ID number."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return RESIDENT_CHECK[total % 11]


def parse_resident_id(text, today=None):
    """The resident ID number, its birth date and gender. Raises BadNumber."""
    number = re.sub(r"\s", "", text or "").upper()
    if not re.fullmatch(r"[0-9]{17}[0-9X]", number):
        raise BadNumber("a resident ID number has 17 digits and a digit or X")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise BadNumber("the birth date in the number is not a date") from None
    if born.year < 1800 or (today is not None and born > today):
        raise BadNumber("the birth date in the number is out of range")
    if resident_check_char(number[:17]) != number[17]:
        raise BadNumber("the check character does not match")
    return ResidentId(number, born, "male" if int(number[16]) % 2 else "female")


def mod37_36_check_char(text):
    """ISO 7064 MOD 37,36 (hybrid): one letter or digit that catches every single wrong
    character and most swaps of two neighbours. `text` holds letters and digits only."""
    product = 36
    for char in text.upper():
        total = (product + ALPHANUMERIC.index(char)) % 36 or 36
        product = (total * 2) % 37
    return ALPHANUMERIC[(37 - product) % 36]


def mod37_36_valid(text):
    """True when the last character of `text` is its check character."""
    text = text.upper()
    return (
        len(text) > 1
        and all(char in ALPHANUMERIC for char in text)
        and mod37_36_check_char(text[:-1]) == text[-1]
    )


def volunteer_number(community_code, sequence):
    """`<community code>-<7-digit sequence><check character>`, the check over both parts."""
    code = re.sub(r"[^0-9A-Za-z]", "", community_code or "0").upper() or "0"
    body = f"{sequence:07d}"
    return f"{code}-{body}{mod37_36_check_char(code + body)}"


def volunteer_number_valid(number):
    """True for a number volunteer_number() could have made."""
    code, _, rest = (number or "").partition("-")
    return bool(re.fullmatch(r"[0-9]{7}[0-9A-Z]", rest)) and mod37_36_valid(code + rest)


def mask_id_number(number):
    """110101199003074514 -> 1101**********4514: region and the last four only."""
    if not number:
        return ""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
