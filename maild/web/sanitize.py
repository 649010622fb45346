"""Customers' HTML mail made safe to show inside our pages (nh3, a maintained sanitiser).

Scripts, event handlers, styles, forms, frames and relative URLs go; links keep only ordinary
schemes and get `rel="noopener noreferrer"`. Remote images are not loaded unless the agent asks
for them on that one view: their `src` is dropped (the `alt` text stays) and counted, so the
page can offer "show images". The pages' Content-Security-Policy is the second fence.
"""

from __future__ import annotations

from dataclasses import dataclass

import nh3

_TAGS = frozenset(nh3.ALLOWED_TAGS) - {"area", "map"}
_ATTRIBUTES = {
    **{tag: set(values) for tag, values in nh3.ALLOWED_ATTRIBUTES.items()},
    "img": {"alt", "height", "src", "width", "title"},
    "a": {"href", "hreflang", "title"},
}
_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_IMAGE_SCHEMES = ("http://", "https://", "//")


@dataclass(frozen=True)
class SafeHtml:
    html: str
    blocked_images: int  # remote images whose address was removed


def sanitize_html(html: str, *, remote_images: bool = False) -> SafeHtml:
    """The HTML without anything active; remote images only when `remote_images`."""
    blocked = 0

    def keep(tag: str, attribute: str, value: str) -> str | None:
        nonlocal blocked
        if tag == "img" and attribute == "src":
            remote = value.strip().lower().startswith(_IMAGE_SCHEMES)
            if not remote or not remote_images:
                blocked += remote
                return None
        return value

    cleaned = nh3.clean(
        html,
        tags=set(_TAGS),
        attributes=_ATTRIBUTES,
        attribute_filter=keep,
        url_schemes=set(_SCHEMES),
        url_relative="deny",
        link_rel="noopener noreferrer nofollow",
    )
    return SafeHtml(cleaned, blocked)
