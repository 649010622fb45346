"""The interface's words in English and Chinese; the language follows the browser's
Accept-Language (any `zh…` preferred over English gives Chinese, everything else English).

Only the interface is translated: customers' mail, templates and reasons show as written.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

LANGUAGES = ("en", "zh")
HTML_LANG = {"en": "en", "zh": "zh-CN"}

# key: (English, Chinese)
STRINGS: dict[str, tuple[str, str]] = {
    "app": ("maild", "maild"),
    "queue": ("Queue", "待审回复"),
    "dashboard": ("Dashboard", "概览"),
    "users": ("Users", "用户"),
    "sign_in": ("Sign in", "登录"),
    "sign_out": ("Sign out", "退出"),
    "sign_out_question": ("Sign out of maild?", "确定退出 maild？"),
    "email": ("Email", "邮箱"),
    "password": ("Password", "密码"),
    "name": ("Name", "姓名"),
    "role": ("Role", "角色"),
    "role_agent": ("agent", "客服"),
    "role_supervisor": ("supervisor", "主管"),
    "role_admin": ("admin", "管理员"),
    "login_failed": ("Wrong email or password.", "邮箱或密码错误。"),
    "signed_out": ("You are signed out.", "您已退出。"),
    "category": ("Category", "类别"),
    "priority": ("Priority", "优先级"),
    "owner": ("Owner", "负责人"),
    "assignee": ("Assignee", "处理人"),
    "mailbox": ("Mailbox", "邮箱账户"),
    "status": ("Status", "状态"),
    "any": ("any", "全部"),
    "owner_mine": ("mine", "我的"),
    "owner_mine_unclaimed": ("mine and unclaimed", "我的和未认领的"),
    "owner_unclaimed": ("unclaimed", "未认领"),
    "owner_all": ("everyone's", "所有人"),
    "filter": ("Filter", "筛选"),
    "ticket": ("Ticket", "工单"),
    "customer": ("Customer", "客户"),
    "subject": ("Subject", "主题"),
    "age": ("Waiting", "等待时间"),
    "target": ("target", "目标"),
    "overdue": ("overdue", "已超时"),
    "missing": ("missing", "缺少"),
    "no_drafts": ("No drafts wait for approval here.", "这里没有待审批的回复。"),
    "page_of": ("Page {page} of {pages} ({total} drafts)", "第 {page}/{pages} 页（共 {total} 条）"),
    "previous": ("Previous", "上一页"),
    "next": ("Next", "下一页"),
    "minutes": ("{n} min", "{n} 分钟"),
    "hours": ("{n} h", "{n} 小时"),
    "days": ("{n} d", "{n} 天"),
    "of_target": ("{age} / {target} target", "{age} / 目标 {target}"),
    "thread": ("Conversation", "往来邮件"),
    "from": ("From", "发件人"),
    "to": ("To", "收件人"),
    "cc": ("Cc", "抄送"),
    "date": ("Date", "日期"),
    "received": ("Received", "收到时间"),
    "sent_by_us": ("sent by maild", "由 maild 发送"),
    "show_original": ("Full original", "查看原文"),
    "download_eml": ("Download .eml", "下载 .eml"),
    "attachments": ("Attachments", "附件"),
    "classification": ("Classification", "分类"),
    "reasons": ("Why", "原因"),
    "history": ("History", "历史"),
    "actions": ("Actions", "操作"),
    "assign_to_me": ("Assign to me", "分配给我"),
    "close": ("Close", "关闭"),
    "close_reason": ("Reason", "原因"),
    "reason_resolved": ("resolved", "已解决"),
    "reason_duplicate": ("duplicate", "重复"),
    "reason_spam": ("spam", "垃圾邮件"),
    "reason_cannot_resolve": ("cannot resolve", "无法解决"),
    "correct": ("Correct", "更正"),
    "rules_said": ("rules said {value}", "规则判定为 {value}"),
    "draft": ("Draft reply", "回复草稿"),
    "drafts": ("Drafts", "草稿"),
    "open_draft": ("Open the draft", "打开草稿"),
    "no_pending_draft": ("No reply waits for approval.", "没有待审批的回复。"),
    "answers": ("In answer to", "回复的邮件"),
    "preview": ("Preview", "预览"),
    "edit": ("Edit", "编辑"),
    "save": ("Save", "保存"),
    "save_and_approve": ("Save and approve", "保存并批准发送"),
    "approve": ("Approve and send", "批准发送"),
    "reject": ("Reject", "拒绝"),
    "reject_reason": ("Why is it rejected?", "拒绝原因"),
    "placeholders_missing": (
        "Fill in the highlighted placeholders before approving: {names}",
        "批准前请先填写高亮的占位符：{names}",
    ),
    "draft_saved": ("Draft saved.", "草稿已保存。"),
    "draft_approved": (
        "Approved: the reply is queued and goes out with the next send.",
        "已批准：回复已进入发件队列，将在下一次发送时发出。",
    ),
    "draft_rejected": ("Draft rejected.", "草稿已拒绝。"),
    "draft_is": ("This draft is {status}.", "此草稿状态为：{status}。"),
    "decided_by": ("Decided by {who} at {at}", "{who} 于 {at} 处理"),
    "revisions": ("Revisions", "修改记录"),
    "ticket_assigned": ("Assigned to you.", "已分配给您。"),
    "ticket_closed": ("Ticket closed.", "工单已关闭。"),
    "ticket_corrected": ("Saved.", "已保存。"),
    "view_text": ("Show as text", "以纯文本显示"),
    "view_html": ("Show formatted", "以网页格式显示"),
    "images_blocked": (
        "{n} remote image(s) not loaded (they would tell the sender you read this).",
        "已阻止 {n} 张远程图片（加载会让发件人知道您已读此邮件）。",
    ),
    "show_images": ("Load images", "加载图片"),
    "no_text": ("(no text)", "（无正文）"),
    "new_part_note": ("New text of this message:", "此邮件的新内容："),
    "overdue_by_owner": ("Overdue tickets by owner", "各负责人的超时工单"),
    "no_overdue": ("Nothing is overdue.", "没有超时工单。"),
    "unowned": ("(no owner)", "（无负责人）"),
    "tickets_header": ("Tickets", "工单数"),
    "oldest": ("oldest", "最久"),
    "escalations_7d": ("Escalations in the last 7 days", "最近 7 天的升级通知"),
    "no_escalations": ("No escalations.", "没有升级通知。"),
    "tier": ("Tier", "级别"),
    "notified": ("Notified", "通知对象"),
    "when": ("When", "时间"),
    "today_volume": ("Today's new tickets by category", "今日各类别新工单"),
    "nothing_today": ("No new tickets today.", "今天还没有新工单。"),
    "chart_received": (
        "Tickets received per day by category (30 days)",
        "每日收到的工单（按类别，30 天）",
    ),
    "chart_first_response": (
        "First response time per day: median and 90th percentile (hours)",
        "每日首次回复时间：中位数与 90 分位（小时）",
    ),
    "chart_compliance": (
        "SLA compliance: tickets answered within their target (%)",
        "SLA 达标率：在目标时间内回复的工单（%）",
    ),
    "median": ("median", "中位数"),
    "p90": ("90th percentile", "90 分位"),
    "target_normal": ("normal target", "普通目标"),
    "figures_json": ("These figures as JSON", "以 JSON 查看这些数据"),
    "add_user": ("Add a user", "添加用户"),
    "add": ("Add", "添加"),
    "disable": ("Disable", "停用"),
    "active": ("active", "启用"),
    "disabled": ("disabled", "已停用"),
    "last_login": ("Last sign-in", "上次登录"),
    "user_added": ("User {email} added.", "已添加用户 {email}。"),
    "user_disabled": ("User {email} disabled.", "已停用用户 {email}。"),
    "forbidden": ("You may not open this page.", "您无权访问此页面。"),
    "forbidden_role": ("It needs the {role} role.", "需要「{role}」角色。"),
    "not_found": ("Not found.", "未找到。"),
    "bad_request": ("That request cannot be handled.", "无法处理此请求。"),
    "csrf_failed": (
        "The form expired or did not come from maild; reload the page and try again.",
        "表单已过期或并非来自 maild，请刷新页面后重试。",
    ),
    "back_to_queue": ("Back to the queue", "返回待审列表"),
    "error_text": ("{text}", "{text}"),
    "signed_in_as": ("Signed in as {name}", "当前用户：{name}"),
}


def negotiate(accept_language: str | None) -> str:
    """ "zh" when the browser prefers any Chinese over English, else "en"."""
    best: tuple[float, str] = (0.0, "en")
    for index, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        match = re.search(r"q\s*=\s*([0-9.]+)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            # Earlier entries win ties, as browsers list them in order of preference.
            score = quality - index * 1e-6
            if score > best[0]:
                best = (score, primary)
    return best[1]


class Translator:
    """`t("queue")`, `t("hours", n=5)`: the interface string in one language."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else "en"
        self._index = LANGUAGES.index(self.language)

    @property
    def html_lang(self) -> str:
        return HTML_LANG[self.language]

    def __call__(self, key: str, **params: Any) -> str:
        text = STRINGS[key][self._index]
        return text.format(**params) if params else text

    def span(self, value: timedelta) -> str:
        """A duration as people read it: 35 min, 5 h, 3 d."""
        minutes = int(value.total_seconds() // 60)
        if minutes < 60:
            return self("minutes", n=minutes)
        hours = value.total_seconds() / 3600
        if hours < 48:
            return self(
                "hours", n=f"{hours:.0f}" if hours >= 10 else f"{hours:.1f}".rstrip("0").rstrip(".")
            )
        return self("days", n=f"{hours / 24:.0f}")
