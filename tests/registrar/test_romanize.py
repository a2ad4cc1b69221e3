"""Names in pinyin, as passports write them: surname in capitals, the given name as one word."""

import pytest

from registrar.romanize import name_pinyin, name_with_pinyin, split_name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("张三", "ZHANG San"),
        ("陈睿宇", "CHEN Ruiyu"),
        ("欧阳小明", "OUYANG Xiaoming"),  # compound surnames
        ("诸葛亮", "ZHUGE Liang"),
        ("司马相如", "SIMA Xiangru"),
        ("单田芳", "SHAN Tianfang"),  # surname readings of polyphonic characters
        ("曾国藩", "ZENG Guofan"),
        ("解缙", "XIE Jin"),
        ("吕雪", "LYU Xue"),  # ü after l and n is written yu
        ("女娲", "NYU Wa"),
        ("买买提·艾力", "Maimaiti Aili"),  # transcribed names keep their parts
        ("John Smith", "John Smith"),
    ],
)
def test_name_pinyin(name, expected):
    assert name_pinyin(name) == expected


def test_name_with_pinyin_keeps_the_stored_name_first():
    assert name_with_pinyin("张三") == "张三 (ZHANG San)"
    assert name_with_pinyin("Anna Li") == "Anna Li"


def test_a_two_character_name_whose_start_is_a_compound_surname_is_not_split_as_one():
    assert split_name("司马") == ("司", "马")
    assert split_name("欧阳娜娜") == ("欧阳", "娜娜")
