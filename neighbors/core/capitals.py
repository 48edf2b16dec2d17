"""Amounts of money in Chinese capital numerals (人民币大写), as vouchers, cheques and receipts
write them, by the rules of 《会计基础工作规范》 art. 52 and 《支付结算办法》 appendix:

- 零壹贰叁肆伍陆柒捌玖, units 拾佰仟万亿, then 元角分;
- 整 after 元 or 角 when nothing follows, never after 分;
- one 零 for one or more zeros between digits (壹仟零壹拾元整, 壹亿零壹万元整), none for the
  zeros at the end of a group or of the whole yuan (壹拾万元整);
- 零 before 分 when 角 is zero (壹万陆仟肆佰零玖元零贰分);
- ten to nineteen begin with 壹拾 (壹拾伍元整), so that nothing can be written before it."""

from decimal import ROUND_HALF_UP, Decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL = ("", "拾", "佰", "仟")
LARGE = ("", "万", "亿")
LIMIT = Decimal("10") ** 12  # a thousand 亿: above the most a Numeric(14, 2) column holds


def capital(amount):
    """An amount in yuan (Decimal, int or a string such as "12345.67") in capital numerals:
    12345.67 -> 壹万贰仟叁佰肆拾伍元陆角柒分. Rounds to the fen. Raises ValueError for a
    negative amount or one of 10¹² yuan or more."""
    value = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if not Decimal(0) <= value < LIMIT:
        raise ValueError(f"cannot write {amount} in capital numerals")
    fen_total = int(value * 100)
    yuan, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    text = _integer(yuan) + "元" if yuan else ""
    if not jiao and not fen:
        return (text or "零元") + "整"
    if jiao:
        text += DIGITS[jiao] + "角"
    elif yuan:
        text += "零"  # 元 then 分, the 角 between them zero
    return text + (DIGITS[fen] + "分" if fen else "整")


def _integer(number):
    """A whole positive number of yuan, without 元."""
    digits = str(number)
    words, zero = [], False
    for index, character in enumerate(digits):
        position = len(digits) - 1 - index
        digit = int(character)
        if digit:
            if zero:
                words.append("零")
            words.append(DIGITS[digit] + SMALL[position % 4])
            zero = False
        else:
            zero = True
        if position % 4 == 0 and position and int(digits[max(0, index - 3) : index + 1]):
            words.append(LARGE[position // 4])
    return "".join(words)
