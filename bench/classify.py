"""Classification benchmark: maild's rule matching against the cost of reading the text, one core.

Generates (seeded, so every run sees the same data) a synthetic rule set of N rules holding K
keywords in all — English words and phrases, Chinese words of 2-4 Han characters, `subject_any`,
`body_any`, `text_any`, some `*_all`, ~5% regular expressions, some sender, recipient, language
and time conditions, categories, priorities, owners, tags — writes it as TOML rule files in the
format of rules/README.md into a temporary folder, and loads it with `load_rules`. Then, pinned to
one CPU, it measures:
  (0) load and compile: `load_rules` of the folder, and the first `compiled_rules(...)`;
  (a) the baseline: `maild.textmatch.normalise` of subject and body alone — the cost of reading
      the text, which no matcher avoids;
  (b) `compiled.classify(facts, context)` of M synthetic messages (0.5-2 KB bodies, English,
      Chinese and mixed, about half holding one or two of the rules' keywords);
  (c) the same with the packaged default rules (rules/), for scale;
  (d) `maild.facts.message_facts` (with the new-part extraction by mail-parser-reply) of 2,000
      parsed realistic messages — replies with quoted history in the common client formats —
      which runs once per message in the pipeline too.
Prints messages/second for each, (b)'s ratio to (a), whether (b) meets the target of over 5,000
messages/s on one core, and the memory the compiled rule set takes. When (b) misses the target, a
cProfile of classification's hot spots follows (--profile always: also one of new_part; never:
none).

    python bench/classify.py                                 # 1,000 rules, 5,000 keywords
    python bench/classify.py --messages 2000 --repeat 1      # a quick look
    python bench/classify.py --rules 2000 --keywords 10000 --messages 20000
Each figure is the best of --repeat runs over the same messages. At today's classification speed
the default run takes about 2.5 minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from importlib.metadata import version
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from maild.bodytext import guess_language  # noqa: E402
from maild.calendar_time import BusinessCalendar  # noqa: E402
from maild.classify import (  # noqa: E402
    ClassifyContext,
    CompiledRules,
    MessageFacts,
    compiled_rules,
)
from maild.facts import message_facts  # noqa: E402
from maild.newpart import new_part  # noqa: E402
from maild.parsing import ParsedMessage, ParseError, parse_message  # noqa: E402
from maild.resources import packaged  # noqa: E402
from maild.rules import RuleSet, load_rules  # noqa: E402
from maild.textmatch import KeywordIndex, normalise, normalise_width  # noqa: E402

TARGET = 5000  # messages/s on one core, against 1,000 rules and 5,000 keywords
TIMEZONE = ZoneInfo("Asia/Shanghai")
MAILBOX = "support@example.com"
RECIPIENTS = (MAILBOX, "billing@example.com", "sales@example.com", "security@example.com")
RULES_PER_FILE = 50


def _words(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(sep))


# --- vocabulary ------------------------------------------------------------------------------
# Keyword material (support and product terms). The filler text of the messages is written from
# other words; keywords that still occur in it as whole words are dropped (see `make_keywords`),
# so that which messages hold a keyword is decided by the generator, not by chance.
NOUNS = _words(
    "account activation admin alert android api app archive attachment audit backup balance "
    "bandwidth billing browser bug cache calendar card certificate charge checkout client "
    "cluster console contract coupon crash credential csv dashboard database deadline "
    "debit deploy desktop discount disk dns domain download driver editor encryption endpoint "
    "enterprise export extension failover feature firewall folder gateway gdpr group import "
    "installer integration invoice ios ip key kernel latency license link linux lock login "
    "logout macos mailbox malware migration mobile module network notification oauth order "
    "outage partner password patch payment permission phishing plan plugin policy portal "
    "preview pricing printer privacy profile proxy purchase query queue quota receipt "
    "recovery refund region release renewal replica report reset restore role router sandbox "
    "scanner schema screen sdk seat security server session settings share signature sla "
    "snapshot spam ssl sso storage subscription sync tablet tax template tenant ticket "
    "timeout token trial upgrade upload usb vat vendor version video vpn wallet webhook widget "
    "windows workspace zip"
)
MODIFIERS = _words(
    "broken failed missing slow wrong expired locked stuck corrupted blocked invalid "
    "unexpected duplicate delayed disabled frozen unpaid overdue suspended encrypted shared "
    "deleted hidden offline outdated pending rejected revoked unstable urgent critical"
)
VERBS = _words(
    "cannot|unable to|failed to|how to|need to|want to|trying to|refuse to|stop|please", "|"
)
ACTIONS = _words(
    "access activate cancel change connect delete downgrade download edit export import "
    "install migrate open print recover refund remove renew reset restore share sign sync "
    "transfer unlock update upgrade upload verify"
)
HAN_WORDS = _words(
    "账号 密码 登录 注册 发票 退款 订单 支付 扣款 续费 套餐 价格 报价 合同 试用 升级 降级 版本 "
    "同步 上传 下载 文件 共享 权限 团队 成员 邮箱 手机 电脑 网络 连接 超时 报错 错误 故障 崩溃 "
    "闪退 卡顿 延迟 数据 备份 恢复 删除 丢失 找回 安全 病毒 证书 域名 接口 插件 模板 配置 通知 "
    "提醒 短信 验证 审批 流程 报表 导出 导入 搜索 预览 打印 扫描 视频 音频 图片 照片 相册 空间 "
    "容量 存储 流量 带宽 节点 集群 部署 迁移 更新 安装 卸载 激活 授权 许可 到期 过期 冻结 解冻 "
    "注销 绑定 解绑 实名 认证 企业 发货 物流 售后 投诉 建议 反馈 咨询 合作 代理 渠道 折扣 优惠 "
    "积分 余额 充值 提现 转账 汇款 对账 税号 抬头 开票 红冲 作废 重复 异常 失败 缓慢 无法 频繁 "
    "页面 按钮 菜单 窗口 界面 日志 记录 历史 回滚 冲突 锁定 解锁 宕机 服务 系统 网站 客服 工单 "
    "帳號 密碼 登入 發票 退費 訂單 付款 續約 檔案 資料 備份 權限 當機 連線 錯誤 憑證 設定 報價"
)
HAN_SUFFIXES = list("单费码号量率户端器件表期")

# --- filler text, free of keywords -----------------------------------------------------------
EN_SENTENCES = (
    "Hello there, I hope you are well.",
    "We started seeing this on Tuesday afternoon and it has not gone away since.",
    "Three people in our office have the same problem, the others seem fine.",
    "I tried again this morning after a restart but nothing changed.",
    "Could you please have a look when you get a chance?",
    "We are a small company of about forty people, most of us work from home.",
    "It happened right after the last weekend, as far as I can tell.",
    "My colleague says it worked for her yesterday, so maybe it is something on my side.",
    "I have attached a few notes below that might help you.",
    "This is the second time I am writing about this, so I would appreciate an answer.",
    "Our finance department asked me to follow up on this as well.",
    "The strange thing is that it only happens some of the time.",
    "When it happens, the page just sits there and does nothing for a minute or two.",
    "We did not change anything on our side, as far as I know.",
    "I am not very technical, so please explain it in simple words.",
    "Our manager would like to know when this will be sorted out.",
    "Is there anything we should do differently in the meantime?",
    "Let me know if you need any more information from me.",
    "We have been happy customers for three years and never had this before.",
    "The numbers we see do not add up with what we expected at all.",
    "I called your phone line but nobody picked up.",
    "Thanks in advance for your help with this.",
    "It would be good to hear back from you before the end of the week.",
    "For what it is worth, the same thing happened to a friend at another company.",
    "I looked through the help pages but could not find anything about it.",
    "We need this for a meeting with a customer on Thursday morning.",
    "Here is what I did step by step, in case it helps.",
    "First I opened it, then I waited, then I closed it and opened it again.",
    "The message on the screen was in red but went away before I could read it.",
    "All the best from the whole team here in Hamburg.",
)
ZH_SENTENCES = (
    "您好，我们是一家做外贸的小公司。",
    "从上周二下午开始就出现这个情况，到现在还没好。",
    "办公室里有三个人遇到同样的情况，其他人好像没事。",
    "今天早上重新试了一次，还是老样子。",
    "麻烦你们有空的时候帮忙看一下。",
    "我们大概四十个人，大部分人在家办公。",
    "我记得是上个周末之后开始的。",
    "我同事说她昨天还是好的，不知道是不是我这边的原因。",
    "下面附上一些说明，希望对你们有帮助。",
    "这已经是我第二次写信说这件事了，希望能尽早得到答复。",
    "我们财务部门也让我跟进一下这件事。",
    "奇怪的是，并不是每次都会这样。",
    "出现的时候，页面一动不动，要等一两分钟。",
    "据我所知，我们这边什么都没改过。",
    "我不太懂技术，请用简单的话解释一下。",
    "我们经理想知道什么时候能解决。",
    "在此期间我们需要注意什么吗？",
    "如果还需要其他信息，请告诉我。",
    "我们用了三年了，以前从来没有遇到过。",
    "看到的数字和我们预期的完全对不上。",
    "我打了你们的电话，但是没有人接。",
    "先谢谢你们的帮助。",
    "希望这周结束之前能收到你们的回复。",
    "另外，我朋友在别的公司也遇到过一样的事。",
    "我看了帮助页面，但是没找到相关的说明。",
    "周四上午我们要和客户开会，到时候要用。",
    "下面是我一步一步做的操作，供参考。",
    "我先打开，然后等了一会儿，再关掉重新打开。",
    "屏幕上出现了一行红字，但我还没看清就消失了。",
    "祝好，来自深圳的全体同事。",
)
EN_SUBJECTS = (
    "Question about our account",
    "Problem since this morning",
    "Follow-up on my earlier mail",
    "Need help please",
    "Something is not right",
    "Re: your answer from last week",
    "Quick question",
    "Issue for customer #{n}",
    "Request from the finance team",
    "Still waiting for a reply",
)
ZH_SUBJECTS = (
    "关于我们公司的问题",
    "今天早上开始的情况",
    "请帮忙看一下",
    "咨询一个问题",
    "回复：上周的答复",
    "还是没有解决",
    "客户{n}的情况",
    "财务部门的需求",
)
# How a keyword is put into a message: a sentence around it, in the message's language.
EN_CARRIERS = (
    "The {kw} part is where it goes wrong for us.",
    "We keep getting {kw} when we try it.",
    "Is there a known issue with {kw} right now?",
    "Since Monday we see {kw} every time.",
)
ZH_CARRIERS = (
    "我们这边一直是{kw}的情况。",
    "请问{kw}的情况是什么原因？",
    "今天又遇到 {kw} 了。",
)
REFERENCES = (
    "Our ticket was INC-{n}.",
    "订单号：{n}",
    "The order number is Order #{n}.",
    "The client shows error E{e} every time.",
)
FIRST_NAMES = ("Anna", "Marc", "Priya", "Tom", "Lena", "Jorge", "Sofia", "Ken", "Amira", "Li Wei")
ZH_NAMES = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏")
# Senders: a few webmail domains for half the mail, the rest from 300 customer companies;
# sender rules name customer domains, so each matches the mail of one or two companies.
WEBMAIL = ("mail.example.com", "post.example.org", "mail.example.cn")
DOMAINS = tuple(f"customer{n}.example.{('com', 'org', 'cn')[n % 3]}" for n in range(300))
CATEGORIES = (
    "technical",
    "billing",
    "complaint",
    "inquiry",
    "product",
    "suggestion",
    "account",
    "security",
    "shipping",
    "partnership",
    "legal",
    "training",
)
TOPICS = (
    "technical",
    "billing",
    "account",
    "security",
    "product",
    "sales",
    "shipping",
    "complaints",
    "partners",
    "legal",
)
REGEXES = (
    r"(?i)\b{key}-\d{{3,6}}\b",
    r"(?i)\bticket\s*#?\s*(?P<ticket_id>\d{{5,}})",
    r"订单号[:：]?\s*(?P<order_id>\d{{4,}})",
    r"(?i)\berror\s+(?P<error_code>E\d{{4}})\b",
    r"(?i)\border\s*#\s*(?P<order_id>\d+)",
    r"\b(?:\d{{1,3}}\.){{3}}\d{{1,3}}\b",
    r"(?i)\bv(?:ersion)?\s*\d+\.\d+(?:\.\d+)?\b",
    r"(?i)\b{key}[-_ ]?(?P<ref>\d{{2,}})",
)
PROJECT_KEYS = ("INC", "REQ", "CASE", "SR", "BUG", "OPS", "FIN", "SEC")


def make_keywords(count: int, rng: random.Random) -> list[str]:
    """`count` distinct keywords (after normalisation): ~60% English, ~40% Chinese."""
    filler = [normalise(s) for s in (*EN_SENTENCES, *ZH_SENTENCES, *EN_SUBJECTS, *ZH_SUBJECTS)]
    filler += [normalise(c.replace("{kw}", " ")) for c in (*EN_CARRIERS, *ZH_CARRIERS)]
    filler += [normalise(r.replace("{n}", "1").replace("{e}", "1")) for r in REFERENCES]
    filler += [normalise(n) for n in (*FIRST_NAMES, *ZH_NAMES, *WEBMAIL, *DOMAINS[:3])]
    seen: set[str] = set()
    keywords: list[str] = []
    while len(keywords) < count:
        batch = [_keyword(rng) for _ in range(2 * (count - len(keywords)) + 50)]
        batch = [k for k in dict.fromkeys(batch) if normalise(k) not in seen]
        index = KeywordIndex(enumerate(batch))
        in_filler = {i for text in filler for i in index.find(text)}
        for i, keyword in enumerate(batch):
            if i not in in_filler and len(keywords) < count:
                seen.add(normalise(keyword))
                keywords.append(keyword)
    return keywords


# Keyword shapes and how often each is drawn: English words and phrases, Chinese words.
EN_SHAPES = {"{n}": 15, "{m} {n}": 30, "{n} {o}": 20, "{v} {a}": 20, "{m} {n} {o}": 15}
ZH_SHAPES = {"{w}": 25, "{w}{s}": 21, "{s}{w}": 9, "{w}{x}": 45}


def _keyword(rng: random.Random) -> str:
    if rng.random() < 0.6:
        shape = rng.choices(list(EN_SHAPES), list(EN_SHAPES.values()))[0]
        n, o, m = rng.choice(NOUNS), rng.choice(NOUNS), rng.choice(MODIFIERS)
        return shape.format(n=n, o=o, m=m, v=rng.choice(VERBS), a=rng.choice(ACTIONS))
    shape = rng.choices(list(ZH_SHAPES), list(ZH_SHAPES.values()))[0]
    w, x, suffix = rng.choice(HAN_WORDS), rng.choice(HAN_WORDS), rng.choice(HAN_SUFFIXES)
    return shape.format(w=w, x=x, s=suffix)


# --- rules -----------------------------------------------------------------------------------


@dataclass
class SyntheticRules:
    folder: Path
    keywords: list[str]  # every keyword entry of every rule, repeats included
    distinct: int
    counts: Counter[str] = field(default_factory=Counter)  # which conditions, how often


def write_rules(folder: Path, rules: int, keywords: int, rng: random.Random) -> SyntheticRules:
    """`rules` rules holding `keywords` keyword entries in all, as TOML files in `folder`."""
    pool = make_keywords(int(keywords * 0.9) + 1, rng)
    # ~2.5% of the rules only look at a regular expression and ~2% only at the sender; the
    # others hold at least one keyword, more for a few (some rules list dozens of words).
    kinds = ["keywords"] * rules
    for i in rng.sample(range(rules), rules * 9 // 200):
        kinds[i] = "regex-only" if rng.random() < 0.55 else "sender-only"
    with_keywords = [i for i, kind in enumerate(kinds) if kind == "keywords"]
    sizes = Counter(with_keywords)
    weights = [rng.paretovariate(1.6) for _ in with_keywords]
    sizes.update(rng.choices(with_keywords, weights, k=keywords - len(with_keywords)))
    fresh = iter(pool)
    used: list[str] = []
    counts: Counter[str] = Counter()
    files: dict[str, list[str]] = {}
    for number in range(rules):
        words: list[str] = []
        while len(words) < sizes[number]:
            # About one entry in ten repeats an earlier rule's keyword (the same list under
            # two rules, like `outage` and `outage-after-hours` in the packaged rules).
            reuse = used and rng.random() < 0.1
            word = rng.choice(used) if reuse else next(fresh, None) or rng.choice(used)
            if word not in words:
                words.append(word)
        used.extend(words)
        table = _rule_table(number, kinds[number], words, rng, counts)
        topic = TOPICS[number // RULES_PER_FILE % len(TOPICS)]
        name = f"{number // RULES_PER_FILE:03d}-{topic}.toml"
        files.setdefault(name, []).append(table)
    for name, tables in files.items():
        header = f"# {name}: synthetic rules generated by bench/classify.py\n\n"
        (folder / name).write_text(header + "\n".join(tables), encoding="utf-8")
    return SyntheticRules(folder, used, len({normalise(k) for k in used}), counts)


def _rule_table(
    number: int, kind: str, words: list[str], rng: random.Random, counts: Counter[str]
) -> str:
    topic = TOPICS[number // RULES_PER_FILE % len(TOPICS)]
    lines = ["[[rule]]", f'name = "{topic}-{number:04d}"']
    lines.append(f"description = {_toml(f'synthetic rule {number} ({kind})')}")
    fields: dict[str, list[str]] = {}
    if words:
        shape = rng.random()
        if shape < 0.08 and len(words) >= 2:
            # "... contains all of these": two or three words, the rest an `any` list.
            key = rng.choice(("subject_all", "body_all"))
            take = min(len(words), rng.choice((2, 2, 3)))
            fields[key] = words[:take]
            if words[take:]:
                fields["body_any"] = words[take:]
        elif shape < 0.16 and len(words) >= 4:
            half = len(words) // 2  # a subject word and a body word, both required
            fields["subject_any"], fields["body_any"] = words[:half], words[half:]
        else:
            key = rng.choices(("text_any", "body_any", "subject_any"), (45, 35, 20))[0]
            fields[key] = words
    for key, values in fields.items():
        lines.append(f"{key} = [{', '.join(_toml(v) for v in values)}]")
        counts[key] += 1
    if kind == "regex-only" or (kind == "keywords" and rng.random() < 0.025):
        key = rng.choice(("subject_regex", "body_regex", "text_regex"))
        pattern = rng.choice(REGEXES).format(key=rng.choice(PROJECT_KEYS))
        lines.append(f"{key} = '{pattern}'")
        counts["regex"] += 1
    _other_conditions(lines, kind, rng, counts)
    _actions(lines, words, rng, counts)
    return "\n".join(lines) + "\n"


def _other_conditions(
    lines: list[str], kind: str, rng: random.Random, counts: Counter[str]
) -> None:
    def add(key: str, value: str) -> None:
        lines.append(f"{key} = {value}")
        counts[key] += 1

    if kind == "sender-only" or rng.random() < 0.05:
        add("from_domain", _toml_list(rng.sample(DOMAINS, rng.randint(1, 2))))
    if rng.random() < 0.02:
        add("from_address", _toml_list([f"ops{rng.randint(1, 500)}@{rng.choice(DOMAINS)}"]))
    if rng.random() < 0.05:
        add("to_address", _toml_list([rng.choice(RECIPIENTS[1:])]))
    if rng.random() < 0.10:
        add("language", _toml_list([rng.choice(("zh", "en"))]))
    if rng.random() < 0.05:
        add("is_reply", rng.choice(("true", "false")))
    if rng.random() < 0.03:
        add("has_attachment", "true")
    if rng.random() < 0.03:
        add("auto_submitted", "false")
    if rng.random() < 0.03:
        add("weekdays", _toml_list(rng.choice((["sat", "sun"], ["mon", "tue", "wed"], ["fri"]))))
    if rng.random() < 0.03:
        add("hours", _toml(rng.choice(("18:00-09:00", "22:00-06:00", "09:00-12:00"))))
    if rng.random() < 0.04:
        add("outside_business_hours", rng.choice(("true", "true", "false")))


def _actions(lines: list[str], words: list[str], rng: random.Random, counts: Counter[str]) -> None:
    if rng.random() < 0.8:
        lines.append(f"category = {_toml(rng.choice(CATEGORIES))}")
    if rng.random() < 0.5:
        priority = rng.choices(("low", "normal", "high", "urgent"), (2, 5, 3, 1))[0]
        lines.append(f"priority = {_toml(priority)}")
    elif rng.random() < 0.06:
        lines.append("raise_priority = true")
    if rng.random() < 0.2:
        owner = rng.choice(("lina", "omar", f"team{rng.randint(1, 9)}@example.com"))
        lines.append(f"owner = {_toml(owner)}")
    if rng.random() < 0.4:
        lines.append(f"tags = {_toml_list(rng.sample(TOPICS, rng.randint(1, 2)))}")
    if words and rng.random() < 0.03:
        lines.append("stop = true")
        counts["stop"] += 1


def _toml(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def _toml_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(_toml(v) for v in values) + "]"


# --- messages --------------------------------------------------------------------------------


def make_text(rng: random.Random, mode: str, keywords: Sequence[str]) -> tuple[str, str]:
    """(subject, body): a 0.5-2 KB body in `mode` ("en", "zh", "mixed"), holding `keywords`."""
    number = rng.randint(10_000, 999_999)
    chinese = mode == "zh" or (mode == "mixed" and rng.random() < 0.5)
    subject = rng.choice(ZH_SUBJECTS if chinese else EN_SUBJECTS).format(n=number)
    size = rng.randint(500, 2000)
    sentences: list[str] = []
    length = 0
    while length < size:
        zh = mode == "zh" or (mode == "mixed" and rng.random() < 0.5)
        sentence = rng.choice(ZH_SENTENCES if zh else EN_SENTENCES)
        sentences.append(sentence)
        length += len(sentence.encode()) + 1
    if rng.random() < 0.05:
        reference = rng.choice(REFERENCES)
        sentences.insert(1, reference.format(n=number, e=rng.randint(1000, 9999)))
    for keyword in keywords:
        if rng.random() < 0.3:
            subject = f"{subject} - {keyword}" if rng.random() < 0.5 else f"{keyword}: {subject}"
            continue
        zh = mode == "zh" or (mode == "mixed" and rng.random() < 0.5)
        carrier = rng.choice(ZH_CARRIERS if zh else EN_CARRIERS)
        sentences.insert(rng.randint(0, len(sentences)), carrier.format(kw=keyword))
    body = ""
    for i, sentence in enumerate(sentences):  # paragraphs of four sentences
        following = sentences[i + 1] if i + 1 < len(sentences) else ""
        chinese_pair = not sentence.isascii() and not following.isascii()
        body += sentence + ("\n\n" if i % 4 == 3 else "" if chinese_pair else " ")
    return subject, body.strip()


def _sender_domain(rng: random.Random) -> str:
    return rng.choice(WEBMAIL) if rng.random() < 0.5 else rng.choice(DOMAINS)


def make_facts(count: int, keywords: Sequence[str], rng: random.Random) -> list[MessageFacts]:
    start = datetime(2026, 11, 2, tzinfo=TIMEZONE)
    facts = []
    for _ in range(count):
        mode = rng.choices(("en", "zh", "mixed"), (50, 35, 15))[0]
        chosen = rng.sample(keywords, rng.choice((1, 1, 2))) if rng.random() < 0.5 else []
        subject, body = make_text(rng, mode, chosen)
        sender = f"{rng.choice(('anna', 'marc', 'zhang.wei', 'li', 'ops'))}{rng.randint(1, 500)}"
        facts.append(
            MessageFacts(
                subject=subject,
                body=body,
                from_address=f"{sender}@{_sender_domain(rng)}",
                recipients=(rng.choice((MAILBOX, MAILBOX, MAILBOX, *RECIPIENTS[1:])),),
                mailbox_address=MAILBOX,
                language=guess_language(subject, body),
                has_attachment=rng.random() < 0.1,
                is_reply=rng.random() < 0.3,
                auto_submitted=rng.random() < 0.02,
                sent_at=start + timedelta(minutes=rng.randint(0, 28 * 24 * 60)),
                sent_at_source="Date header",
            )
        )
    return facts


QUOTE_FORMATS = (
    # (weight, header before the quoted history, whether the history is ">"-quoted)
    (40, "", False),
    (15, "On Mon, 23 Nov 2026 at 10:12, Cloudlet Support <support@example.com> wrote:", True),
    (12, "在 2026年11月20日 09:12，张伟 <zhang.wei@mail.example.cn> 写道：", True),
    (
        12,
        "-----Original Message-----\nFrom: Cloudlet Support <support@example.com>\n"
        "Sent: Monday, November 23, 2026 10:12 AM\nTo: {sender}\nSubject: {subject}",
        False,
    ),
    (
        12,
        "发件人：Cloudlet 客服 <support@example.com>\n发送时间：2026年11月20日 9:12\n"
        "收件人：{sender}\n主题：{subject}",
        False,
    ),
    (9, "------------------ 原始邮件 ------------------", False),
)
SIGNATURES = (
    "",
    "",
    "\n\n-- \n{name}\nHead of Operations, Example GmbH\n+49 40 1234567",
    "\n\n发自我的iPhone",
    "\n\nThanks,\n{name}",
    "\n\nSent from Outlook",
    "\n\n谢谢！\n{name}",
)


def make_raw(number: int, keywords: Sequence[str], rng: random.Random) -> bytes:
    """A realistic support message: often a reply, with the history quoted below the new part."""
    mode = rng.choices(("en", "zh", "mixed"), (50, 35, 15))[0]
    chosen = rng.sample(keywords, rng.choice((1, 2))) if rng.random() < 0.5 else []
    subject, body = make_text(rng, mode, chosen)
    name = rng.choice(ZH_NAMES if mode == "zh" else FIRST_NAMES)
    sender = f"customer{number}@{_sender_domain(rng)}"
    weights = [w for w, _, _ in QUOTE_FORMATS]
    _, header, quoted = rng.choices(QUOTE_FORMATS, weights)[0]
    text = body + rng.choice(SIGNATURES).format(name=name)
    message = EmailMessage()
    if header:
        history_lines = make_text(rng, mode, [])[1].split("\n")
        if quoted:
            history_lines = [f"> {line}" if line else ">" for line in history_lines]
        header = header.format(sender=sender, subject=subject)
        text += "\n\n" + header + "\n\n" + "\n".join(history_lines)
        subject = rng.choice(("Re: ", "RE: ", "回复：", "AW: ")) + subject
        earlier = make_msgid(domain="example.com")
        message["In-Reply-To"] = earlier
        message["References"] = earlier
    message["From"] = f"{name} <{sender}>"
    message["To"] = MAILBOX
    if rng.random() < 0.2:
        message["Cc"] = f"colleague{number}@{_sender_domain(rng)}"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(idstring=str(number), domain="customer.example.com")
    sent = datetime(2026, 11, 2, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 40_000))
    message["Date"] = format_datetime(sent)
    message.set_content(text)
    if rng.random() < 0.15:
        paragraphs = "".join(f"<p>{line}</p>" for line in text.splitlines() if line)
        message.add_alternative(f"<html><body>{paragraphs}</body></html>", subtype="html")
    if rng.random() < 0.08:
        message.add_attachment(
            rng.randbytes(4000), maintype="image", subtype="png", filename="screenshot.png"
        )
    return message.as_bytes()


# --- measuring -------------------------------------------------------------------------------


def best_of(repeat: int, work: Callable[[], object]) -> float:
    """The fastest of `repeat` runs of `work`, in seconds (after a collection, GC left on)."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def pin_to_one_core() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity here)"
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu} of {os.cpu_count()}"


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def classify_all(
    compiled: CompiledRules, facts: Sequence[MessageFacts], context: ClassifyContext
) -> None:
    for f in facts:
        compiled.classify(f, context)


def normalise_all(facts: Sequence[MessageFacts]) -> None:
    for f in facts:
        normalise(f.subject)
        normalise(f.body)


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:9,.0f} msg/s  ({seconds * 1e6 / count:7.1f} µs/msg)"


def profile(work: Callable[[], object], top: int = 14) -> str:
    """cProfile of one run of `work`: the functions taking the most time of their own."""
    profiler = cProfile.Profile()
    profiler.enable()
    work()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if "ncalls" in line)
    return "\n".join(lines[start:]).replace(str(REPO) + "/", "").replace(sys.prefix + "/", "")


@dataclass
class Loaded:
    ruleset: RuleSet
    compiled: CompiledRules
    keywords: list[str]
    rss_growth_kib: int


def load_stage(args: argparse.Namespace, context: ClassifyContext, rng: random.Random) -> Loaded:
    """(0): write the synthetic rule files, time `load_rules` and the first compile."""
    with tempfile.TemporaryDirectory(prefix="maild-bench-rules-") as scratch:
        synthetic = write_rules(Path(scratch), args.rules, args.keywords, rng)
        files = sorted(synthetic.folder.glob("*.toml"))
        size_kb = sum(p.stat().st_size for p in files) / 1024
        started = time.perf_counter()
        ruleset = load_rules(synthetic.folder, context.owners)
        load_s = time.perf_counter() - started
    rss_before = rss_kib()
    started = time.perf_counter()
    compiled = compiled_rules(ruleset)
    compile_s = time.perf_counter() - started
    rss_growth = rss_kib() - rss_before
    started = time.perf_counter()
    compiled_rules(ruleset)
    cached_s = time.perf_counter() - started
    print(
        f"\nrule set: {len(ruleset.rules)} rules in {len(files)} files ({size_kb:.0f} KB), "
        f"{len(synthetic.keywords)} keywords ({synthetic.distinct} distinct); rules with "
        + ", ".join(f"{k} {v}" for k, v in sorted(synthetic.counts.items()))
    )
    print(f"(0) load_rules:              {load_s * 1000:8.1f} ms")
    print(f"    first compiled_rules():  {compile_s * 1000:8.1f} ms")
    print(f"    cached compiled_rules(): {cached_s * 1e6:8.1f} µs")
    return Loaded(ruleset, compiled, synthetic.keywords, rss_growth)


def classify_stage(
    args: argparse.Namespace,
    loaded: Loaded,
    facts: Sequence[MessageFacts],
    context: ClassifyContext,
) -> float:
    """(a), (b), (c): the baseline, classification, the packaged rules; returns (b)'s rate."""
    n, compiled, rules = len(facts), loaded.compiled, len(loaded.ruleset.rules)
    kb = sum(len(f.body.encode()) for f in facts) / n / 1024
    languages = Counter(f.language for f in facts)
    print(
        f"\nmessages: {n}, body {kb:.2f} KB on average, languages "
        + ", ".join(f"{k} {v * 100 / n:.0f}%" for k, v in languages.most_common())
    )
    base_s = best_of(args.repeat, lambda: normalise_all(facts))
    classify_s = best_of(args.repeat, lambda: classify_all(compiled, facts, context))
    rate_a, rate_b = n / base_s, n / classify_s
    print(f"(a) baseline, normalise(subject) + normalise(body): {rate(n, base_s)}")
    print(f"(b) classify, {rules} rules:{' ' * max(0, 29 - len(str(rules)))}{rate(n, classify_s)}")
    print(f"    classify / baseline = {rate_b / rate_a:.3f}x ({classify_s / base_s:.0f}x the time)")
    verdict = "met" if rate_b > TARGET else "NOT met"
    print(
        f"    target > {TARGET:,} msg/s on one core: {verdict} ({rate_b / TARGET:.2f}x the target)"
    )
    decisions = [compiled.classify(f, context) for f in facts]
    matched = [len(d.rules) for d in decisions]
    with_keyword = sum(1 for f in facts if _has_keyword(compiled, f))
    print(
        f"    {with_keyword * 100 / n:.0f}% of messages hold a rule keyword; rules matched per "
        f"message: mean {sum(matched) / n:.2f}, max {max(matched)}; "
        f"{sum(1 for m in matched if m) * 100 / n:.0f}% match a rule, "
        f"{sum(1 for d in decisions if d.category != 'other') * 100 / n:.0f}% get a category"
    )
    # Where (b)'s time goes: text preparation and the two automaton scans are what `_Scan`
    # does once per message; the rest is the evaluation of the rules, one by one.
    subjects = [normalise(f.subject) for f in facts]
    bodies = [normalise(f.body) for f in facts]
    width_s = best_of(
        args.repeat, lambda: [(normalise_width(f.subject), normalise_width(f.body)) for f in facts]
    )
    scan_s = best_of(
        args.repeat,
        lambda: [
            (compiled._subject_index.find(s), compiled._body_index.find(b))
            for s, b in zip(subjects, bodies, strict=True)
        ],
    )
    rest_s = classify_s - base_s - width_s - scan_s
    print(
        f"    per message: normalise {base_s * 1e6 / n:.1f} µs + normalise_width "
        f"{width_s * 1e6 / n:.1f} µs + keyword scans {scan_s * 1e6 / n:.1f} µs + rule "
        f"evaluation ~{rest_s * 1e6 / n:.0f} µs (~{rest_s * 1e9 / n / rules:.0f} ns a rule)"
    )
    default = load_rules(packaged("rules"))
    started = time.perf_counter()
    default_compiled = CompiledRules(default)
    default_compile_s = time.perf_counter() - started
    default_s = best_of(args.repeat, lambda: classify_all(default_compiled, facts, context))
    print(
        f"(c) classify, packaged rules ({len(default.rules)} rules, "
        f"{len(default_compiled._by_id)} keywords, compiled in {default_compile_s * 1000:.0f} ms):"
        f"\n    {rate(n, default_s).strip()}  ({n / default_s / TARGET:.2f}x the target)"
    )
    return rate_b


def _has_keyword(compiled: CompiledRules, facts: MessageFacts) -> bool:
    return bool(
        compiled._subject_index.find(normalise(facts.subject))
        or compiled._body_index.find(normalise(facts.body))
    )


def memory_stage(loaded: Loaded) -> None:
    """The compiled rule set's memory: Python objects (tracemalloc) and the process's resident
    size, which also counts the automata (Rust allocations, invisible to tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    fresh = CompiledRules(loaded.ruleset)
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del fresh
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nmemory, compiled {len(loaded.ruleset.rules)}-rule set: Python objects "
        f"{retained / 2**20:.1f} MiB retained, {peak / 2**20:.1f} MiB peak while compiling "
        f"(tracemalloc); process RSS +{loaded.rss_growth_kib / 1024:.1f} MiB over the first "
        f"compile (automata included); process peak RSS so far {peak_rss:.0f} MiB"
    )


def facts_stage(args: argparse.Namespace, keywords: Sequence[str], rng: random.Random) -> float:
    """(d): `message_facts` of parsed realistic messages; returns its seconds per message."""
    raws = [make_raw(i, keywords, rng) for i in range(args.facts_messages)]
    arrival = datetime(2026, 12, 1, tzinfo=UTC)
    started = time.perf_counter()
    parsed: list[ParsedMessage] = []
    for raw in raws:
        with contextlib.suppress(ParseError):
            parsed.append(parse_message(raw, arrival))
    parse_s = time.perf_counter() - started
    m = len(parsed)
    facts_s = best_of(args.repeat, lambda: [message_facts(p, MAILBOX, TIMEZONE) for p in parsed])
    newpart_s = best_of(args.repeat, lambda: [new_part(p.text) for p in parsed])
    replies = sum(1 for p in parsed if p.in_reply_to)
    print(
        f"\n(d) message_facts of {m} parsed messages ({sum(map(len, raws)) / len(raws) / 1024:.1f}"
        f" KB raw on average, {replies * 100 / m:.0f}% replies quoting history):\n"
        f"    message_facts:    {rate(m, facts_s)}\n"
        f"      of it new_part: {rate(m, newpart_s)}\n"
        f"    (parse_message, for scale, one run: {rate(m, parse_s)})"
    )
    if args.profile == "always":
        print(f"\nprofile of new_part, {m} messages:")
        print(profile(lambda: [new_part(p.text) for p in parsed], top=8))
    return facts_s / m


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--keywords", type=int, default=5000)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--facts-messages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs (3)")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument(
        "--profile",
        choices=("auto", "always", "never"),
        default="auto",
        help="auto: profile classification when it misses the target (default)",
    )
    args = parser.parse_args()
    if args.keywords < args.rules:
        parser.error("--keywords must be at least --rules (a keyword rule holds one or more)")
    pinned = pin_to_one_core()
    print(
        f"Python {platform.python_version()}, {cpu_model()}, {pinned}; "
        f"ahocorasick-rs {version('ahocorasick-rs')}, "
        f"mail-parser-reply {version('mail-parser-reply')}"
    )
    rng = random.Random(args.seed)
    context = ClassifyContext(
        calendar=BusinessCalendar(TIMEZONE),
        owners={"lina": "Lina Wu <lina@example.com>", "omar": "Omar Haddad <omar@example.com>"},
        default_owner="lina",
    )
    loaded = load_stage(args, context, rng)
    facts = make_facts(args.messages, loaded.keywords, rng)
    classify_rate = classify_stage(args, loaded, facts, context)
    memory_stage(loaded)
    facts_per_message = facts_stage(args, loaded.keywords, rng)
    both = 1 / classify_rate + facts_per_message
    print(
        f"    message_facts + classify ({len(loaded.ruleset.rules)} rules) together: "
        f"{1 / both:,.0f} msg/s ({both * 1e6:.0f} µs/msg)"
    )
    if args.profile == "always" or (args.profile == "auto" and classify_rate <= TARGET):
        sample = facts[: min(len(facts), 2000)]
        print(f"\nprofile of classify, {len(sample)} messages, {len(loaded.ruleset.rules)} rules:")
        print(profile(lambda: classify_all(loaded.compiled, sample, context)))


if __name__ == "__main__":
    main()
