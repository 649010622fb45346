"""Sandboxed template rendering: visible markers for gaps, refusals that say why."""

from __future__ import annotations

from pathlib import Path

import pytest

from maild.templating import Namespace, TemplateRenderError, TemplateSet, markers_in


def folder(tmp_path: Path, **files: str) -> TemplateSet:
    for name, text in files.items():
        path = tmp_path / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return TemplateSet(tmp_path)


def test_a_missing_value_renders_as_a_marker_and_is_listed(tmp_path: Path) -> None:
    templates = folder(
        tmp_path,
        **{
            "replies__default.en.txt.j2": (
                "{{ greeting }} {{ customer.first_name }}, order {{ order_id }}."
                "{% if invoice_id %} Invoice {{ invoice_id }}.{% endif %}"
                " {{ agent.nick | default('we') }} {{ customer.first_name }}\n"
            )
        },
    )
    context = {
        "greeting": "Hi",
        "customer": Namespace("customer", {"first_name": None, "email": "a@b.c"}),
        "agent": Namespace("agent", {}),
    }
    rendered = templates.render("replies/default.en.txt.j2", context)
    assert rendered.text == (
        "Hi [[customer.first_name]], order [[order_id]]. we [[customer.first_name]]\n"
    )
    assert rendered.missing == ("customer.first_name", "order_id")
    assert rendered.html is None


def test_an_empty_string_counts_as_missing(tmp_path: Path) -> None:
    templates = folder(tmp_path, **{"a.txt.j2": "{{ ticket.number }}|{{ ticket.subject }}"})
    ticket = Namespace("ticket", {"number": "CS20261124-0001", "subject": ""})
    rendered = templates.render("a.txt.j2", {"ticket": ticket})
    assert rendered.text == "CS20261124-0001|[[ticket.subject]]"
    assert rendered.missing == ("ticket.subject",)


def test_html_sibling_is_rendered_with_escaping(tmp_path: Path) -> None:
    templates = folder(
        tmp_path,
        **{"r.txt.j2": "{{ name }}", "r.html.j2": "<p>{{ name }} {{ nothing }}</p>"},
    )
    rendered = templates.render("r.txt.j2", {"name": "<script>x</script>"})
    assert rendered.text == "<script>x</script>"
    assert rendered.html == "<p>&lt;script&gt;x&lt;/script&gt; [[nothing]]</p>"
    assert rendered.missing == ("nothing",)


@pytest.mark.parametrize(
    ("source", "complaint"),
    [
        ("{{ ''.__class__ }}", "access to '__class__' of a str is not allowed"),
        ("{{ greeting.__class__.__mro__ }}", "__class__"),
        ("{{ cycler.__init__.__globals__ }}", "not allowed"),
        ("{{ ().__class__.__base__.__subclasses__() }}", "__class__"),
        ("{% include '../../../etc/passwd' %}", "not found"),
        ("{% include '/etc/passwd' %}", "not found"),
        ("{{ 1 / 0 }}", "ZeroDivisionError"),
        ("{% for x in greeting %}", "Unexpected end of template"),
    ],
)
def test_a_template_reaching_outside_fails_with_a_clear_error(
    tmp_path: Path, source: str, complaint: str
) -> None:
    templates = folder(tmp_path, **{"evil.txt.j2": source})
    with pytest.raises(TemplateRenderError, match=r"evil\.txt\.j2") as caught:
        templates.render("evil.txt.j2", {"greeting": "hi"})
    assert complaint in str(caught.value)


def test_values_cannot_be_changed_by_a_template(tmp_path: Path) -> None:
    templates = folder(tmp_path, **{"m.txt.j2": "{{ items.append(1) }}"})
    items: list[int] = []
    with pytest.raises(TemplateRenderError, match="sandbox"):
        templates.render("m.txt.j2", {"items": items})
    assert items == []


def test_reply_template_falls_back_by_category_then_language(tmp_path: Path) -> None:
    templates = folder(
        tmp_path,
        **{
            "replies__billing.zh.txt.j2": "账单",
            "replies__default.zh.txt.j2": "默认",
            "replies__default.en.txt.j2": "default",
        },
    )
    assert templates.reply_template("billing", ("zh", "en")) == ("replies/billing.zh.txt.j2", "zh")
    assert templates.reply_template("technical", ("zh", "en")) == (
        "replies/default.zh.txt.j2",
        "zh",
    )
    assert templates.reply_template("billing", ("fr", "en")) == ("replies/default.en.txt.j2", "en")
    with pytest.raises(TemplateRenderError, match="none found"):
        TemplateSet(tmp_path / "nowhere").reply_template("billing", ("en",))


def test_check_reports_file_and_line_of_a_syntax_error(tmp_path: Path) -> None:
    templates = folder(
        tmp_path, **{"ok.txt.j2": "fine", "replies__bad.en.txt.j2": "line one\n{% if x %}\n"}
    )
    (problem,) = templates.check()
    assert str(problem).startswith(f"{tmp_path / 'replies/bad.en.txt.j2'}:")
    assert "endif" in str(problem) or "end of template" in str(problem)


def test_markers_in_edited_text() -> None:
    assert markers_in("Dear [[customer.name]], [[order_id]] x [[order_id]]", "[[ a b ]]") == (
        "customer.name",
        "order_id",
    )
