"""Rendering reply and notification templates in a sandbox, with visible markers for gaps.

Templates are Jinja2 files under the configured templates folder, rendered by an immutable
sandboxed environment: a template cannot reach Python internals (`__class__`, `__globals__`),
change the values it is given, or read files outside the folder. A value the context does not
have never renders as an empty string: it renders as ``[[customer.first_name]]`` and its name is
listed in `Rendered.missing`, so an agent sees the gap and approval is refused until it is gone.
Guard optional values with ``{% if order_id %}``; ``| default(...)`` also counts as handled.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, TemplateError, TemplateNotFound, TemplateSyntaxError, Undefined
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from maild.tomlreader import ConfigError

__all__ = [
    "Namespace",
    "Rendered",
    "TemplateRenderError",
    "TemplateSet",
    "markers_in",
]

_MARKER = re.compile(r"\[\[([A-Za-z_][A-Za-z0-9_.]*)\]\]")
_missing: ContextVar[list[str] | None] = ContextVar("maild_template_missing", default=None)


class TemplateRenderError(Exception):
    """A template that cannot be used: not found, invalid, or refused by the sandbox."""

    def __init__(self, template: str, problem: str, line: int | None = None) -> None:
        where = f"{template}:{line}" if line else template
        super().__init__(f"template {where}: {problem}")
        self.template = template
        self.line = line


class Namespace(dict[str, Any]):
    """A group of values (``customer``, ``ticket``…) that knows its own name, so a missing
    member's marker can say ``[[customer.first_name]]`` rather than ``[[first_name]]``."""

    def __init__(self, maild_path: str, values: Mapping[str, Any]) -> None:
        super().__init__({k: v for k, v in values.items() if v is not None and v != ""})
        self._maild_path = maild_path


class _MarkerUndefined(Undefined):
    """Renders as a visible ``[[name]]`` marker and records the name; falsy in ``{% if %}``."""

    __slots__ = ()

    def _dotted(self) -> str:
        owner = self._undefined_obj
        name = str(self._undefined_name)
        if isinstance(owner, Namespace):
            return f"{owner._maild_path}.{name}"
        return name

    def __str__(self) -> str:
        name = self._dotted()
        found = _missing.get()
        if found is not None and name not in found:
            found.append(name)
        return f"[[{name}]]"

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return _MarkerUndefined(name=f"{self._dotted()}.{attribute}")

    def __getitem__(self, key: Any) -> Any:
        return _MarkerUndefined(name=f"{self._dotted()}.{key}")

    def __iter__(self) -> Iterator[Any]:
        return iter(())


@dataclass(frozen=True)
class Rendered:
    template: str  # the text template's name, relative to the templates folder
    text: str
    html: str | None  # from the .html.j2 beside the text template, if there is one
    missing: tuple[str, ...]  # placeholders without a value, in order of appearance


def markers_in(*texts: str) -> tuple[str, ...]:
    """The unresolved ``[[name]]`` markers in texts (an agent's edit is checked with this)."""
    return tuple(dict.fromkeys(m[1] for text in texts for m in _MARKER.finditer(text)))


class _Sandbox(ImmutableSandboxedEnvironment):
    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        # The stock sandbox answers an unsafe attribute with an undefined value, which would
        # render as a harmless but puzzling marker: say plainly what was refused instead.
        raise SecurityError(f"access to {attribute!r} of a {type(obj).__name__} is not allowed")


class TemplateSet:
    """The templates of one folder, compiled once and cached."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._env = _Sandbox(
            loader=FileSystemLoader(directory),
            undefined=_MarkerUndefined,
            autoescape=lambda name: bool(name and name.endswith(".html.j2")),
            keep_trailing_newline=True,
            auto_reload=True,
        )

    def exists(self, name: str) -> bool:
        return (self.directory / name).is_file()

    def reply_template(self, category: str | None, languages: tuple[str, ...]) -> tuple[str, str]:
        """(template name, language) of the reply for `category`: the first of
        ``replies/<category>.<lang>.txt.j2`` then ``replies/default.<lang>.txt.j2`` over
        `languages` (the customer's, then the mailbox's, then English)."""
        tried: list[str] = []
        for language in dict.fromkeys(languages):
            for stem in (category, "default"):
                if not stem:
                    continue
                name = f"replies/{stem}.{language}.txt.j2"
                if self.exists(name):
                    return name, language
                tried.append(name)
        raise TemplateRenderError(tried[0] if tried else "replies/", f"none found (tried {tried})")

    def render(self, name: str, context: Mapping[str, Any]) -> Rendered:
        """Render `name` (and its .html.j2 sibling) with `context`; TemplateRenderError on error."""
        found: list[str] = []
        token = _missing.set(found)
        try:
            text = self._render_one(name, context)
            html_name = name.removesuffix(".txt.j2") + ".html.j2"
            html = self._render_one(html_name, context) if self.exists(html_name) else None
        finally:
            _missing.reset(token)
        return Rendered(template=name, text=text, html=html, missing=tuple(found))

    def _render_one(self, name: str, context: Mapping[str, Any]) -> str:
        try:
            return self._env.get_template(name).render(context)
        except TemplateNotFound as exc:
            raise TemplateRenderError(name, f"not found in {self.directory} ({exc.name})") from None
        except TemplateSyntaxError as exc:
            raise TemplateRenderError(
                exc.name or name, exc.message or "syntax error", exc.lineno
            ) from None
        except SecurityError as exc:
            raise TemplateRenderError(name, f"refused by the sandbox: {exc}") from None
        except Exception as exc:  # a template's own error (e.g. 1/0) must not escape as a crash
            raise TemplateRenderError(name, f"{type(exc).__name__}: {exc}") from None

    def check(self) -> list[ConfigError]:
        """Every template that does not compile, with file and line (for start-up checks)."""
        problems: list[ConfigError] = []
        for path in sorted(self.directory.rglob("*.j2")):
            name = path.relative_to(self.directory).as_posix()
            try:
                self._env.get_template(name)
            except TemplateSyntaxError as exc:
                problems.append(ConfigError(path, exc.lineno, "", exc.message or "syntax error"))
            except (TemplateError, UnicodeDecodeError) as exc:
                problems.append(ConfigError(path, None, "", f"{type(exc).__name__}: {exc}"))
        return problems
