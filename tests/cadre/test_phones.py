"""Mobile numbers are read exactly as typed or refused: cadre.phones.normalise_mobile."""

import pytest

from cadre.phones import InvalidMobile, normalise_mobile, typed_problem


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("07700 900123", None),
        ("07700900123", None),
        ("+44 7700 900123", None),
        ("+44 (0)7700 900123", None),
        ("(07700) 900-123", None),
        ("07700–900–123", None),  # en dashes, as a word processor writes them
        ("07700\u00a0900123", None),  # a no-break space pasted from a web page
        ("0770O 9OO002", "The mobile number cannot contain “O”: use digits only."),
        ("07700 9OO002", "The mobile number cannot contain “O”: use digits only."),
        ("0770l 900002", "The mobile number cannot contain “l”: use digits only."),
        ("07700 900123 ext 4", "The mobile number cannot contain “e”: use digits only."),
        ("07700.900.123", "The mobile number cannot contain “.”: use digits only."),
        ("07700/900123", "The mobile number cannot contain “/”: use digits only."),
        ("07700 900123#", "The mobile number cannot contain “#”: use digits only."),
        ("*07700 900123", "The mobile number cannot contain “*”: use digits only."),
        ("07700 ٩00123", "The mobile number cannot contain “٩”: use digits only."),
        ("07700\t900123\x00", "The mobile number cannot contain U+0000: use digits only."),
        ("0044 7700 900123", None),
        ("07700 +900123", "A + can only start the number, as in +44 7700 900123."),
        ("++447700900123", "A + can only start the number, as in +44 7700 900123."),
    ],
)
def test_it_allows_digits_spaces_plus_brackets_and_dashes_only(typed, problem):
    assert typed_problem(typed) == problem


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("07700 900123", "+447700900123"),
        ("+44 (0)7700 900123", "+447700900123"),
        ("(07700) 900-123", "+447700900123"),
        ("07911 123456", "+447911123456"),
    ],
)
def test_it_stores_what_was_typed_in_e164(typed, e164):
    assert normalise_mobile(typed) == e164


@pytest.mark.parametrize("typed", ["0770O 9OO002", "07700 9OO002", "0770O 9OO633", "O7700900123"])
def test_it_never_reads_letters_as_a_phone_keypad(typed):
    with pytest.raises(InvalidMobile, match="cannot contain"):
        normalise_mobile(typed)
