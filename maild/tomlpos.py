"""Find the line of a key in a TOML text, so configuration errors can point at it.

tomllib returns plain dicts without positions; this scanner follows table headers (counting
`[[array]]` entries) well enough for the files people write by hand. When a key is not written
out (a missing required key), the line of its table header is the next best answer.
"""

from __future__ import annotations

import re

KeyPath = tuple[str | int, ...]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=""")


def _split_dotted(text: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in text.split("."))


def key_lines(text: str) -> dict[KeyPath, int]:
    """Every table header and key of the text, with the 1-based line it is on (one scan)."""
    lines: dict[KeyPath, int] = {}
    counters: dict[KeyPath, int] = {}
    current: KeyPath = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            names = _split_dotted(header.group(2))
            current = _resolve_header(names, counters, is_array=header.group(1) == "[[")
            lines.setdefault(current, number)
            continue
        key = _KEY.match(line)
        if key:
            lines.setdefault((*current, *_split_dotted(key.group(1))), number)
    return lines


def locate_key(text: str, keypath: KeyPath, index: dict[KeyPath, int] | None = None) -> int | None:
    """1-based line of `keypath` (ints index arrays of tables), or of its nearest table header.

    Pass the `key_lines` of the text as `index` when looking up many keys of one file.
    """
    lines = index if index is not None else key_lines(text)
    for length in range(len(keypath), 0, -1):
        line = lines.get(keypath[:length])
        if line is not None:
            return line
    return None


def _resolve_header(
    names: tuple[str, ...], counters: dict[KeyPath, int], *, is_array: bool
) -> KeyPath:
    path: list[str | int] = []
    for i, name in enumerate(names):
        path.append(name)
        prefix = tuple(path)
        last = i == len(names) - 1
        if last and is_array:
            counters[prefix] = counters.get(prefix, -1) + 1
            path.append(counters[prefix])
        elif prefix in counters:
            path.append(counters[prefix])
    return tuple(path)
