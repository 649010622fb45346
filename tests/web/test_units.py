"""The web app's pure parts: the HTML sanitiser, the SVG charts, the interface language, the
`[web]` configuration and the session key."""

from __future__ import annotations

import os
import string
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest

from maild.config import ConfigError, config_from_mapping
from maild.config_web import WebSettings, parse_listen
from maild.web import charts
from maild.web.draft_ops import highlight
from maild.web.i18n import STRINGS, Translator, negotiate
from maild.web.keys import KEY_FILE_NAME, WebKeyError, default_key_path, session_key
from maild.web.metrics import percentile
from maild.web.sanitize import sanitize_html

HOSTILE = (
    '<p onclick="steal()">Hi <b>there</b></p><script>alert(1)</script>'
    '<img src="http://evil.example/x.png" onerror="alert(2)" alt="logo">'
    '<img src="/logout"><a href="javascript:alert(3)">js</a><a href="https://ok.example/">ok</a>'
    "<style>body{background:url(http://evil.example/bg)}</style>"
    '<div style="background:url(http://evil.example/bg2)">d</div><iframe src="https://x"></iframe>'
    '<form action="https://evil.example"><input name="p"></form>'
)


def test_the_sanitiser_drops_scripts_handlers_styles_and_remote_images() -> None:
    safe = sanitize_html(HOSTILE)
    for bad in (
        "<script",
        "onclick",
        "onerror",
        "javascript:",
        "evil.example",
        "<style",
        "style=",
        "<iframe",
        "<form",
        "/logout",
    ):
        assert bad not in safe.html, bad
    assert "<b>there</b>" in safe.html and 'alt="logo"' in safe.html
    assert 'href="https://ok.example/"' in safe.html and "noopener" in safe.html
    assert safe.blocked_images == 1


def test_remote_images_load_only_when_asked() -> None:
    safe = sanitize_html(HOSTILE, remote_images=True)
    assert 'src="http://evil.example/x.png"' in safe.html
    assert "onerror" not in safe.html and "<script" not in safe.html
    assert safe.blocked_images == 0


def test_charts_are_well_formed_svg_with_escaped_labels() -> None:
    labels = ["11-23", "11-24"]
    drawn = [
        charts.stacked_bars(labels, {"<b>&x": [1, 2], "账单": [0, 3]}, title="T <1>"),
        charts.line_chart(
            labels, {"median": [1.5, None]}, title="R", unit=" h", reference=("target", 4.0)
        ),
        charts.percent_bars(labels, [None, 87.5], title="S", goal=90.0),
        charts.stacked_bars([], {}, title="empty"),
    ]
    for svg in drawn:
        root = ET.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "&lt;b&gt;&amp;x" in drawn[0] and "<b>" not in drawn[0]
    assert "账单: 3" in drawn[0]
    assert "87%" in drawn[2] or "88%" in drawn[2]


def test_chart_scales_end_on_round_numbers() -> None:
    assert [charts.scale_top(v) for v in (0, 3, 26, 170)] == [4.0, 4.0, 40.0, 200.0]
    assert charts.nice_ceiling(0.3) == pytest.approx(0.5)


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 11)]
    assert (percentile(values, 0.5), percentile(values, 0.9)) == (5.0, 9.0)
    assert percentile([], 0.5) is None


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,zh-TW;q=0.5", "zh"),
        ("de-DE", "en"),
        ("", "en"),
        ("en;q=0.2, zh-Hant;q=0.7", "zh"),
        ("zh;q=0, en", "en"),
    ],
)
def test_the_interface_language_follows_accept_language(header: str, language: str) -> None:
    assert negotiate(header) == language


def test_every_interface_string_has_both_languages_and_spans_read_naturally() -> None:
    en, zh = Translator("en"), Translator("zh")
    assert (
        en.span(timedelta(minutes=35)),
        en.span(timedelta(hours=5)),
        en.span(timedelta(days=3)),
    ) == (
        "35 min",
        "5 h",
        "3 d",
    )
    assert zh.span(timedelta(hours=2.5)) == "2.5 小时"
    assert zh("queue") == "待审回复" and zh.html_lang == "zh-CN"


def test_placeholders_are_highlighted_and_the_rest_escaped() -> None:
    marked = highlight("<b>Hi</b> [[customer.first_name]]")
    assert str(marked) == (
        '&lt;b&gt;Hi&lt;/b&gt; <mark class="missing">[[customer.first_name]]</mark>'
    )


def test_the_web_table_has_defaults_and_rejects_unknown_keys() -> None:
    assert config_from_mapping({}).web == WebSettings()
    config = config_from_mapping(
        {"web": {"listen": "[::1]:9000", "secure_cookies": "auto", "session_lifetime": "8h"}}
    )
    assert (config.web.host, config.web.port, config.web.listen) == ("::1", 9000, "[::1]:9000")
    assert config.web.session_lifetime == timedelta(hours=8)
    for bad, message in (
        ({"listen": "8025"}, "HOST:PORT"),
        ({"listne": "127.0.0.1:80"}, "unknown key"),
        ({"secure_cookies": "yes"}, "auto"),
        ({"secret_key": "inline"}, "never go in the file"),
        ({"secret_key_env": "A", "secret_key_file": "b"}, "not both"),
    ):
        with pytest.raises(ConfigError, match=message):
            config_from_mapping({"web": bad})
    assert parse_listen("0.0.0.0:80") == ("0.0.0.0", 80)


def test_a_generated_session_key_is_kept_beside_an_sqlite_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'maild.db'}"
    first = session_key(WebSettings(), url)
    assert session_key(WebSettings(), url) == first and len(first) >= 32
    path = tmp_path / KEY_FILE_NAME
    assert path.stat().st_mode & 0o777 == 0o600
    assert default_key_path("postgresql+psycopg://maild@/maild") is None
    with pytest.raises(WebKeyError, match="secret_key_env or secret_key_file"):
        session_key(WebSettings(), "postgresql+psycopg://maild@/maild")
    named = tmp_path / "keys" / "web.key"
    made = session_key(WebSettings(secret_key_file=named), "postgresql+psycopg://maild@/maild")
    assert named.read_text().strip() == made


def test_a_session_key_from_the_environment_must_be_long_enough(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = WebSettings(secret_key_env="MAILD_TEST_WEB_SECRET")
    monkeypatch.setenv("MAILD_TEST_WEB_SECRET", "short")
    with pytest.raises(WebKeyError, match="at least 32"):
        session_key(settings, "sqlite:///x.db")
    monkeypatch.setenv("MAILD_TEST_WEB_SECRET", "k" * 40)
    assert session_key(settings, "sqlite:///x.db") == "k" * 40
    assert "MAILD_TEST_WEB_SECRET" in os.environ


def test_both_languages_of_a_string_take_the_same_placeholders() -> None:
    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for key, (english, chinese) in STRINGS.items():
        assert fields(english) == fields(chinese), key
