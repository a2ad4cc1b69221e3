import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from students.validators import (
    ID_NUMBER_BIRTH_DATE,
    ID_NUMBER_CHECKSUM,
    ID_NUMBER_FORMAT,
    id_birth_date,
    id_check_digit,
    validate_id_number,
)


def _with_check(first17: str) -> str:
    return first17 + id_check_digit(first17)


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002X",  # the GB 11643-1999 example, check code X
        "11010519491231002x",  # lower-case x is accepted
        "440524188001010014",
        _with_check("33010620040517001"),
        " 11010519491231002X ",  # surrounding blanks are ignored
    ],
)
def test_valid_id_numbers_pass(number):
    validate_id_number(number)


def _error(number) -> ValidationError:
    with pytest.raises(ValidationError) as exc:
        validate_id_number(number)
    return exc.value


@pytest.mark.parametrize("number", ["110105194912310021", "440524188001010015", "110105194912310020"])
def test_wrong_check_digit_rejected(number):
    err = _error(number)
    assert err.code == "id_checksum"
    assert err.messages == [str(ID_NUMBER_CHECKSUM)]


@pytest.mark.parametrize("first17", ["11010520230230001", "11010520041301001", "11010520040100001"])
def test_impossible_birth_date_rejected_even_with_a_correct_check_digit(first17):
    err = _error(_with_check(first17))
    assert err.code == "id_birth_date"
    assert err.messages == [str(ID_NUMBER_BIRTH_DATE)]


@pytest.mark.parametrize(
    "number",
    [
        "",
        "1101051949123100",
        "11010519491231002X1",
        "1101051949123100XX",
        "A1010519491231002X",
        "1" * 15,
        "11010519491231002Y",
    ],
)
def test_wrong_length_or_characters_rejected(number):
    err = _error(number)
    assert err.code == "id_format"
    assert err.messages == [str(ID_NUMBER_FORMAT)]


def test_every_single_digit_typo_is_caught():
    good = "11010519491231002X"
    for position in range(17):
        for digit in "0123456789":
            if digit == good[position]:
                continue
            typo = good[:position] + digit + good[position + 1 :]
            with pytest.raises(ValidationError):
                validate_id_number(typo)


def test_birth_date_read_from_id_number():
    assert id_birth_date("11010519491231002X") == dt.date(1949, 12, 31)
    assert id_birth_date("110105202302300010") is None
