"""Where the packaged defaults (rules, templates, the sample mailbox) are on this machine."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
# In a source checkout (or an editable install) the defaults sit at the repository's top level,
# where admins expect them; a built wheel carries them under maild/_data.
_REPOSITORY_NAMES = {"sample-mailbox": Path("examples") / "sample-mailbox"}


def packaged(name: str) -> Path:
    """Path of a packaged default folder: "rules", "templates" or "sample-mailbox"."""
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / _REPOSITORY_NAMES.get(name, Path(name))


def example_config() -> Path:
    """The commented example maild.toml that `maild init` writes out."""
    return _PACKAGE / "maild.example.toml"
