"""Validators for the people register: 18-digit resident ID numbers (GB 11643-1999)."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CODES = "10X98765432"

ID_NUMBER_FORMAT = _("An ID number has 18 characters: 17 digits and a final digit or X.")
ID_NUMBER_BIRTH_DATE = _("The ID number's birth date (digits 7–14) is not a real date.")
ID_NUMBER_CHECKSUM = _("The ID number's check digit is wrong; please check for a typing mistake.")


def id_check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CODES[total % 11]


def id_birth_date(value: str) -> dt.date | None:
    try:
        return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def validate_id_number(value: str) -> None:
    value = (value or "").strip().upper()
    if len(value) != 18 or not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise ValidationError(ID_NUMBER_FORMAT, code="id_format")
    if id_birth_date(value) is None:
        raise ValidationError(ID_NUMBER_BIRTH_DATE, code="id_birth_date")
    if id_check_digit(value[:17]) != value[17]:
        raise ValidationError(ID_NUMBER_CHECKSUM, code="id_checksum")
