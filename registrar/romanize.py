"""Chinese personal names in Hanyu Pinyin, the way passports write them: "张三" → "ZHANG San".

The surname in capitals, then the given name as one word with a capital initial; ü is written
``yu`` after n and l (吕 → LYU), tones are dropped. Two-character (compound) surnames such as
欧阳 or 司马 are recognised, and characters read differently as surnames (单 Shan, 曾 Zeng …) take
their surname reading. A name that is not Chinese (already in Latin letters) is returned as is.
"""

from __future__ import annotations

import re

#: Two-character surnames (复姓), with their readings.
COMPOUND_SURNAMES = {
    "欧阳": "ouyang",
    "司马": "sima",
    "上官": "shangguan",
    "诸葛": "zhuge",
    "东方": "dongfang",
    "皇甫": "huangfu",
    "尉迟": "yuchi",
    "公孙": "gongsun",
    "慕容": "murong",
    "长孙": "zhangsun",
    "宇文": "yuwen",
    "司徒": "situ",
    "夏侯": "xiahou",
    "轩辕": "xuanyuan",
    "令狐": "linghu",
    "钟离": "zhongli",
    "闻人": "wenren",
    "澹台": "tantai",
    "端木": "duanmu",
    "百里": "baili",
    "呼延": "huyan",
    "南宫": "nangong",
    "西门": "ximen",
    "独孤": "dugu",
    "万俟": "moqi",
    "司空": "sikong",
    "申屠": "shentu",
    "太史": "taishi",
    "赫连": "helian",
    "濮阳": "puyang",
    "公冶": "gongye",
    "宗政": "zongzheng",
    "单于": "chanyu",
    "仲孙": "zhongsun",
    "拓跋": "tuoba",
    "第五": "diwu",
    "左丘": "zuoqiu",
    "东郭": "dongguo",
    "段干": "duangan",
    "巫马": "wuma",
}

#: One-character surnames whose surname reading differs from the common one.
SURNAME_READINGS = {
    "单": "shan",
    "曾": "zeng",
    "解": "xie",
    "区": "ou",
    "仇": "qiu",
    "朴": "piao",
    "查": "zha",
    "盖": "ge",
    "覃": "qin",
    "褚": "chu",
    "秘": "bi",
    "繁": "po",
    "缪": "miao",
    "种": "chong",
    "召": "shao",
    "员": "yun",
    "句": "gou",
    "华": "hua",
    "任": "ren",
    "沈": "shen",
    "折": "she",
    "翟": "zhai",
    "尉": "yu",
    "燕": "yan",
    "宁": "ning",
    "纪": "ji",
    "蕃": "pi",
    "相": "xiang",
    "曲": "qu",
    "长": "chang",
    "贲": "ben",
    "冼": "xian",
    "过": "guo",
    "藏": "zang",
    "隗": "wei",
    "郗": "xi",
    "万": "wan",
    "便": "pian",
    "阚": "kan",
}

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _syllables(text: str) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    # ü as "v" from pypinyin; passports write it "yu" (after n and l, the only places it is written)
    return [re.sub(r"^([nl])v", r"\1yu", s).replace("v", "u") for s in lazy_pinyin(text, style=Style.NORMAL)]


def split_name(name: str) -> tuple[str, str]:
    """(surname, given name) of a Chinese name: a known compound surname, else the first character."""
    name = name.strip()
    if len(name) > 2 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


def name_pinyin(name: str) -> str:
    """ "张三" → "ZHANG San", "欧阳小明" → "OUYANG Xiaoming"; a name without Chinese characters as is."""
    name = (name or "").strip()
    if not _HAN.search(name):
        return name
    if "·" in name or "•" in name:  # transcribed names of minorities (买买提·艾力): each part capitalised
        return " ".join(name_pinyin_word(part) for part in re.split(r"[·•]", name) if part)
    surname, given = split_name(name)
    family = COMPOUND_SURNAMES.get(surname) or SURNAME_READINGS.get(surname) or "".join(_syllables(surname))
    return f"{family.upper()} {name_pinyin_word(given)}".strip()


def name_pinyin_word(text: str) -> str:
    """Chinese text as one pinyin word with a capital initial: "晓明" → "Xiaoming"."""
    return "".join(_syllables(text)).capitalize()


def name_with_pinyin(name: str) -> str:
    """The name as stored followed by its pinyin: "张三 (ZHANG San)"; a non-Chinese name alone."""
    romanised = name_pinyin(name)
    return name if romanised == name else f"{name} ({romanised})"
