"""Ingest benchmark: maild's end-to-end poll against the ceilings measured in the same run.

Loads N realistic support messages into a loopback Dovecot, then measures on that mailbox:
  (a) a bare imapclient fetch of every body in batches of 500 — the ceiling for moving bytes;
  (b) parse-only: mail-parser over the same raw bytes in one process — one core's parse ceiling;
  (c) `maild poll --once` into a fresh SQLite database — fetch, store raw, parse, commit.
Prints messages/second for each, maild's ratios to (a) and (b), and maild's peak RSS.

    python bench/ingest.py                 # 5,000 messages
    python bench/ingest.py --messages 50000
Needs dovecot-imapd (the test suite's Dovecot fixture is reused).
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.servers.dovecot import DovecotServer, dovecot_available  # noqa: E402

ENGLISH_SUBJECTS = [
    "Cannot log in since this morning",
    "Invoice for October",
    "How do I share a folder?",
    "Sync stuck at 99%",
    "Charged twice this month",
    "Feature request: dark mode",
    "Re: Your ticket about exports",
    "Error 500 when uploading",
]
CHINESE_SUBJECTS = [
    "无法登录，提示密码错误",
    "申请开具发票",
    "如何设置团队权限？",
    "客户端报错 E4012",
]
PARAGRAPH = (
    "Hello support team,\n\nI have been trying to get this working since yesterday. "
    "The client shows an error after a few minutes and nothing syncs. I restarted the "
    "computer and reinstalled the app, but it did not help. Could you please have a look?\n\n"
    "Thanks,\n{name}\n"
)
CHINESE_PARAGRAPH = (
    "您好：\n\n从昨天开始客户端一直无法同步，重启和重装都试过了，还是报错。"
    "麻烦尽快帮忙看一下。\n\n谢谢！\n{name}\n"
)


def make_message(number: int, rng: random.Random) -> bytes:
    """A realistic support mix: mostly short text, some HTML, ~5% Chinese, some attachments."""
    message = EmailMessage()
    chinese = rng.random() < 0.05
    name = f"客户{number}" if chinese else f"Customer {number}"
    message["From"] = f"{name} <customer{number}@example.com>"
    message["To"] = "support@example.com"
    message["Subject"] = rng.choice(CHINESE_SUBJECTS if chinese else ENGLISH_SUBJECTS)
    message["Message-ID"] = make_msgid(idstring=str(number), domain="customer.example.com")
    sent = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=number)
    message["Date"] = format_datetime(sent)
    body = (CHINESE_PARAGRAPH if chinese else PARAGRAPH).format(name=name)
    if chinese and rng.random() < 0.5:
        message.set_content(
            body.encode("gbk"),
            maintype="text",
            subtype="plain",
            params={"charset": "gbk"},
            cte="base64",
        )
    else:
        message.set_content(body)
    if rng.random() < 0.15:
        html = (
            "<html><body>"
            + "".join(f"<p>{line}</p>" for line in body.splitlines())
            + "</body></html>"
        )
        message.add_alternative(html, subtype="html")
    if rng.random() < 0.05:
        message.add_attachment(
            rng.randbytes(20_000),
            maintype="application",
            subtype="pdf",
            filename=f"invoice-{number}.pdf",
        )
    return message.as_bytes()


def bare_fetch(server: DovecotServer) -> tuple[float, list[bytes]]:
    started = time.perf_counter()
    bodies: list[bytes] = []
    with server.connect() as client:
        client.select_folder("INBOX", readonly=True)
        uids = client.search(["ALL"])
        for start in range(0, len(uids), 500):
            response = client.fetch(uids[start : start + 500], ["BODY.PEEK[]", "INTERNALDATE"])
            bodies.extend(data[b"BODY[]"] for data in response.values())
    return time.perf_counter() - started, bodies


def parse_only(bodies: list[bytes]) -> float:
    import mailparser  # noqa: PLC0415

    logging.getLogger("mailparser").setLevel(logging.CRITICAL)
    started = time.perf_counter()
    for raw in bodies:
        mailparser.parse_from_bytes(raw)
    return time.perf_counter() - started


def tree_rss_kib(pid: int) -> tuple[int, int]:
    """(RSS of the process, RSS of it and all its descendants), in KiB."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
        except OSError:
            continue
        rss[int(entry)] = int(fields.get("VmRSS", "0 kB").split()[0])
        children.setdefault(int(fields["PPid"].strip()), []).append(int(entry))
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += rss.get(current, 0)
        stack.extend(children.get(current, []))
    return rss.get(pid, 0), total


def maild_poll(server: DovecotServer, workdir: Path) -> tuple[float, int, int, str]:
    config = workdir / "maild.toml"
    config.write_text(
        f"""[database]
url = "sqlite:///maild.db"
[[mailbox]]
name = "bench"
address = "support@example.com"
  [mailbox.imap]
  host = "{server.host}"
  port = {server.port}
  security = "none"
  allow_insecure = true
  username = "{server.user}"
  password_env = "MAILD_BENCH_PASSWORD"
  batch_size = 500
""",
        encoding="utf-8",
    )
    env = {**os.environ, "MAILD_BENCH_PASSWORD": server.password}
    peak_main = peak_tree = 0
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "maild", "--json-logs", "--config", str(config), "poll", "--once"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak_main, peak_tree
        while not stop.is_set():
            main, tree = tree_rss_kib(process.pid)
            peak_main, peak_tree = max(peak_main, main), max(peak_tree, tree)
            stop.wait(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    _, stderr = process.communicate()
    elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"maild poll failed ({process.returncode}):\n{stderr[-3000:]}")
    return elapsed, peak_main, peak_tree, stderr


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args()
    if not dovecot_available():
        raise SystemExit("dovecot not installed (apt-get install dovecot-imapd)")
    rng = random.Random(args.seed)
    with DovecotServer() as server, tempfile.TemporaryDirectory() as scratch:
        load_started = time.perf_counter()
        server.append_many(make_message(n, rng) for n in range(1, args.messages + 1))
        loaded_s = time.perf_counter() - load_started
        print(f"loaded {args.messages} messages into Dovecot in {loaded_s:.1f}s")
        fetch_s, bodies = bare_fetch(server)
        parse_s = parse_only(bodies)
        megabytes = sum(map(len, bodies)) / 1e6
        del bodies
        maild_s, peak_main, peak_tree, _ = maild_poll(server, Path(scratch))
    n = args.messages
    rate_a, rate_b, rate_c = n / fetch_s, n / parse_s, n / maild_s
    print(f"messages: {n} ({megabytes:.1f} MB), cores: {os.cpu_count()}")
    print(f"(a) bare imapclient fetch, batches of 500: {rate_a:8.0f} msg/s  ({fetch_s:.2f}s)")
    print(f"(b) mail-parser parse-only, one process:   {rate_b:8.0f} msg/s  ({parse_s:.2f}s)")
    print(f"(c) maild poll --once into fresh SQLite:    {rate_c:8.0f} msg/s  ({maild_s:.2f}s)")
    print(f"maild / (a) = {rate_c / rate_a:.2f}x    maild / (b) = {rate_c / rate_b:.2f}x")
    print(
        f"maild peak RSS: main process {peak_main / 1024:.0f} MiB, "
        f"with its parse workers {peak_tree / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    main()
