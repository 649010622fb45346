"""How to address a customer: a name from the From display name, else from the address.

- The display name is cleaned first: NFKC (full-width letters and brackets fold); bracketed parts
  ("Smith, John (Sales)"), quotes, "'X' via Group" and "X | Acme" tails dropped; an undecoded
  "=?utf-8?…?=" is ignored; one that is an address ("zhang.wei@example.cn") is read as an address.
- Han: 2–4 characters starting with a known surname (compound ones such as 欧阳 first; traditional
  forms too) and no organisation word (公司, 客服, 部…): "张伟" is family 张, given 伟; "张先生"
  keeps the honorific in the full name. Kana/Hangul: a full name only. Other CJK: no person.
- Latin: titles and suffixes (Dr, PhD) dropped, ALL-CAPS or all-lower tokens title-cased. "Family,
  Given" as written; one ALL-CAPS token at either end is the family name ("CHAN Tai Man"). Else
  Western order, except romanised Chinese written surname first: the first token a common Chinese
  surname, the others romanised syllables, the last a less frequent surname or none ("Zhang Wei",
  "Li Na", "Tan Wei Ming"; but "Wei Zhang", as 张 is more frequent than 魏/韦).
- Address: the local part split on . _ - with trailing digits dropped; it needs 2–3 parts, the
  first not an initial, and no role word (info, support, noreply…): "zhang.wei88" is Zhang Wei;
  "jsmith", "info" and QQ numbers are nobody.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class PersonName:
    """A customer's name as far as it can be told; every part None when nothing is usable."""

    full: str | None
    first: str | None
    family: str | None
    cjk: bool


NO_NAME = PersonName(None, None, None, False)


def _words(text: str) -> tuple[str, ...]:
    # Word lists are written as one string: as list literals they would take a line per word.
    return tuple(text.split())


# The most common mainland surnames in pinyin, most frequent first (several characters share a
# spelling: wei is 魏 and 韦, so a spelling takes the rank of its most frequent character).
_PINYIN = _words(
    "wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he lin luo gao zheng "
    "liang xie song tang han deng feng cao peng zeng xiao tian dong pan yuan cai jiang yu du ye "
    "cheng wei su lyu lv ding ren lu yao shen zhong cui tan fan liao shi jin jia xia fu fang zou "
    "xiong bai meng qin qiu hou yin xue yan duan lei long tao mao hao gu gong shao wan qian dai "
    "ou mo kong xiang chang kang yi qiao lai wen ni niu ge xing"
)
_RANK = {spelling: rank for rank, spelling in enumerate(_PINYIN)}  # each spelling once
# Cantonese, Wade-Giles and Hokkien spellings rank as the character they spell. "Lee" is 李: the
# surname-first rule also wants the other tokens romanised Chinese, so "Lee Smith" and "Lee Harvey
# Oswald" stay Western while "Lee Wei", "Lee Chong Wei" read surname first; "Bruce Lee" is Western.
_VARIANTS = {
    "chan": "chen", "wong": "wang", "cheung": "zhang", "lee": "li", "leung": "liang",
    "lau": "liu", "ng": "wu", "ho": "he", "tse": "xie", "yeung": "yang", "chow": "zhou",
    "chu": "zhu", "tsang": "zeng", "kwok": "guo", "lam": "lin", "lo": "luo", "siu": "xiao",
    "fung": "feng", "tam": "tan", "yip": "ye", "tsui": "xu", "chiu": "zhao", "hsu": "xu",
    "tsai": "cai", "kuo": "guo", "hsieh": "xie", "chao": "zhao", "tseng": "zeng",
    "lim": "lin", "goh": "wu", "ong": "wang", "teo": "zhang", "chua": "cai", "yeo": "yang",
}  # fmt: skip

# One romanised syllable (pinyin plus a few Cantonese/Wade-Giles forms), one to three per token:
# "Wei", "Xiaoming", "Keung" pass; "Smith", "Harvey" do not.
_SYLLABLE = (
    r"(?:zh|ch|sh|ts|kw|hs|[bpmfdtnlgkhjqxrzcsyw])?"
    r"(?:iang|iong|uang|ueng|eung|ang|eng|ing|ong|uai|uan|ian|iao|ai|ei|ao|ou|an|en|in|un|"
    r"ia|ie|iu|ua|uo|ui|oi|ve|ue|er|a|o|e|i|u|v)"
)
_ROMANISED = re.compile(rf"(?:{_SYLLABLE}){{1,3}}")

_HAN_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩邓冯曹彭曾肖田董潘袁蔡蒋余于杜叶程"
    "魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付傅方邹熊白孟秦邱侯江尹薛闫阎段雷龙黎史陶贺毛"
    "郝顾龚邵万覃武钱戴严欧莫孔向常汤康易乔赖文施洪牛樊葛邢安齐庞俞章鲁殷柳翁倪舒祝包柯温吉纪"
    "岳管关骆申焦左耿甘聂单裴凌祁"
    "張劉陳楊黃趙吳孫馬鄭羅謝許韓鄧馮蕭葉蘇呂盧鍾鐘譚陸賈韋鄒閻賀龔萬錢嚴歐湯喬賴聶單龐魯紀嶽"
    "關駱顧"
)
_HAN_COMPOUND = _words(
    "欧阳 歐陽 司马 司馬 诸葛 諸葛 上官 东方 東方 皇甫 尉迟 尉遲 公孙 公孫 慕容 令狐 司徒 夏侯 "
    "长孙 長孫 宇文 轩辕 軒轅 端木 独孤 獨孤 南宫 南宮 西门 西門 呼延 澹台 钟离 鍾離 闻人 聞人"
)
_HONORIFICS = _words("先生 女士 小姐 老师 老師 经理 經理 博士 教授 总 總")
# Words that make a CJK string an organisation or a role rather than a person.
_HAN_NOT_NAME = re.compile(
    "公司|有限|集团|集團|中心|团队|團隊|客服|支持|服务|服務|科技|银行|銀行|学校|學校|大学|大學|"
    "学院|學院|医院|醫院|系统|系統|通知|平台|财务|財務|人事|行政|市场|市場|物流|快递|快遞|商城|"
    "旗舰|旗艦|官方|传媒|傳媒|网络|網絡|信息|资讯|資訊|贸易|貿易|实业|實業|工作室|会社|會社|株式|"
    "주식회사|[部店局厅廳处處所市省县縣站组組]"
)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_KANA_HANGUL = re.compile(r"[\u3040-\u30ff\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_HAN_ONLY = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,4}")

# Titles and suffixes are dropped wherever they stand ("Dr. John Smith", "Smith, John, PhD").
_TITLES = _words("mr mrs ms miss mx dr prof professor sir madam dame rev jr sr ii iii phd esq")
_PARTICLES = _words("van von de der den da di del della du la le")
# Tokens that make a Latin display name or address a team, company or robot rather than a person.
_ROLE_WORDS = _words(
    "support service services team sales billing info information admin administrator noreply "
    "donotreply reply customer customers care help helpdesk desk department dept office "
    "inc ltd llc gmbh co corp corporation company group limited bank shop store official "
    "notification notifications newsletter news mailer daemon postmaster webmaster hostmaster "
    "system robot bot account accounts finance hr marketing contact hello orders order mail email "
    "enquiry enquiries inquiry feedback abuse security privacy legal jobs careers press media "
    "invoice invoices receipts payments test user guest root bounce bounces kefu fuwu the of and "
    "via"
)
_TOKEN = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_BRACKETED = re.compile(r"[(\[{<【〔][^)\]}>】〕]*[)\]}>】〕]")
_SEGMENTS = re.compile(r"\s*[|/]\s*|\s+[-–—]\s+")  # "Wei Zhang | Acme", "Zhang Wei/张伟"
_ASCII_WORD = re.compile("[a-z]+")
_QUOTES = " \t\"'`“”‘’「」『』"


def person_name(display_name: str | None, address: str | None) -> PersonName:
    """The customer's name from the display name, else from the address's local part."""
    name = _from_display(display_name) if display_name else NO_NAME
    if name.full is None and address:
        local = address.rsplit("<", 1)[-1].rsplit("@", 1)[0]
        name = _from_local_part(local)
    return name


def greeting(name: PersonName, language: str) -> str:
    """The salutation line for a reply in `language` ("zh", else English); never empty."""
    # A CJK name is used whole (张伟 is addressed as 张伟, never 伟); a Latin one by its given name.
    salutation = name.full if name.cjk and name.full else name.first
    if language.strip().lower().startswith("zh"):
        return f"{salutation}，您好！" if salutation else "您好！"
    if name.cjk and name.full:
        return f"Dear {name.full},"
    return f"Hi {salutation}," if salutation else "Hello,"


def _from_display(raw: str) -> PersonName:
    if "=?" in raw and "?=" in raw:  # an encoded word the caller did not decode: unreadable
        return NO_NAME
    text = "".join(c if c.isprintable() else " " for c in unicodedata.normalize("NFKC", raw))
    text = _BRACKETED.sub(" ", text)
    text = re.sub(r"\s+via\s+.*$", "", text, flags=re.IGNORECASE)  # "'Wei Zhang' via Support"
    for segment in _SEGMENTS.split(text):
        name = _segment(" ".join(segment.replace('"', " ").strip(_QUOTES).split()))
        if name.full is not None:
            return name
    return NO_NAME


def _segment(text: str) -> PersonName:
    if re.fullmatch(r"\S+@\S+", text):  # the display name is an address
        return _from_local_part(text.rsplit("@", 1)[0])
    text = " ".join(re.sub(r"\S+@\S+", " ", text).split())
    if _CJK.search(text):
        name = _from_cjk(text)
        if name.full is not None:
            return name
        text = " ".join(_CJK.sub(" ", text).split())  # perhaps a Latin name beside the CJK one
    if text and " " not in text and re.search(r"[._]", text):  # "zhang.wei" as display name
        return _from_local_part(text)
    return _from_latin(text)


def _from_cjk(text: str) -> PersonName:
    if _HAN_NOT_NAME.search(text):
        return NO_NAME
    if _KANA_HANGUL.search(text):
        # Japanese or Korean: the full name is safe to use, splitting it is not.
        ok = len(text) <= 12 and all(_CJK.match(c) or c in " ・·" for c in text)
        return PersonName(text, None, None, True) if ok else NO_NAME
    match = _HAN_ONLY.search(text)
    han = match.group(0) if match else ""
    if han != "".join(_CJK.findall(text)):  # several Han runs, or too long for a person's name
        return NO_NAME
    bare = next((han[: -len(h)] for h in _HONORIFICS if han.endswith(h) and han != h), han)
    if bare != han and (bare in _HAN_SURNAMES or bare in _HAN_COMPOUND):
        return PersonName(han, None, bare, True)  # "张先生" is addressed as written
    han = bare  # "张伟先生" is 张伟
    cut = 2 if len(han) > 2 and han[:2] in _HAN_COMPOUND else 1
    if len(han) < 2 or (cut == 1 and han[0] not in _HAN_SURNAMES):
        return NO_NAME  # no known surname: "财务", "小王", a brand — "您好！" is never wrong
    return PersonName(han, han[cut:], han[:cut], True)


def _from_local_part(local: str) -> PersonName:
    parts = re.split(r"[._-]", local.split("+", 1)[0].lower())
    parts = [p.rstrip("0123456789") for p in parts if p.rstrip("0123456789")]
    # "jsmith" and "info" are one part; "j.smith" starts with an initial, no name to greet by.
    if not 2 <= len(parts) <= 3 or len(parts[0]) < 2 or not all(map(_ASCII_WORD.fullmatch, parts)):
        return NO_NAME
    words = [p for p in parts if len(p) > 1]  # a middle initial ("john.a.smith") is dropped
    return _from_latin(" ".join(words)) if len(words) > 1 else NO_NAME


def _from_latin(text: str) -> PersonName:
    pieces = [[t for t in p.split() if _bare(t) not in _TITLES] for p in text.split(",")]
    pieces = [p for p in pieces if p]
    tokens = [t for p in pieces for t in p]
    usable = 1 <= len(tokens) <= 4 and len(pieces) <= 2 and len(text) <= 80
    usable = usable and all(_TOKEN.fullmatch(t) and _bare(t) not in _ROLE_WORDS for t in tokens)
    if not usable or (len(tokens) == 1 and tokens[0].islower()):  # "jsmith" is a user name
        return NO_NAME
    words = [_recase(t, i > 0) for i, t in enumerate(tokens)]
    full = " ".join(words)
    caps = [i for i, t in enumerate(tokens) if t.isupper() and len(t) > 1]
    if len(pieces) == 2:  # "Zhang, Wei": the family name, a comma, the given names
        given, family = words[len(pieces[0]) :], words[: len(pieces[0])]
        full = " ".join(given + family)
    elif len(words) > 1 and len(caps) == 1 and caps[0] in (0, len(words) - 1):
        # "CHAN Tai Man", "Wei ZHANG": the one upper-case token is the family name.
        family = [words[caps[0]]]
        given = words[1:] if caps[0] == 0 else words[:-1]
    elif len(words) > 1 and _surname_first(words):
        given, family = words[1:], words[:1]
    else:  # Western order; the family name starts at a particle ("van Beethoven") or is the last
        cut = next((i for i, w in enumerate(words) if i and w in _PARTICLES), len(words) - 1)
        given, family = words[: max(cut, 1)], words[max(cut, 1) :]
    # A romanised Chinese given name is kept whole ("Tai Man", "Wei Ling"); else the first one.
    chinese = len(family) == 1 and _rank(family[0]) is not None
    chinese = chinese and all(_ROMANISED.fullmatch(w.lower()) for w in given)
    first = " ".join(given) if chinese else given[0]
    return PersonName(full, first, " ".join(family) or None, False)


def _surname_first(words: list[str]) -> bool:
    head, tail = _rank(words[0]), _rank(words[-1])
    if head is None or not all(_ROMANISED.fullmatch(w.lower()) for w in words[1:]):
        return False
    # Of two surnames the more frequent is the family name. Three tokens ending in a surname are
    # surname-first only if that one is much rarer: "Lee Chong Wei", but "Wei Ling Tan".
    return tail is None or head + (0 if len(words) == 2 else 20) < tail


def _rank(word: str) -> int | None:
    return _RANK.get(_VARIANTS.get(word.lower(), word.lower()))


def _bare(token: str) -> str:
    return token.strip(".").lower()


def _recase(token: str, later: bool) -> str:
    """Title-case an ALL-CAPS or all-lower token; "McDonald" and a later "van" stay as written."""
    if (later and token in _PARTICLES) or not (token.isupper() or token.islower()):
        return token
    return re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), token)
