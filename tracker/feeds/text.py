"""HTML from feeds: sanitised for display, flattened to text for matching.

Feeds deliver HTML written by many hands (portal editors, WordPress, Word
pastes). It is stored raw; `sanitize_html` is applied when it is shown, with an
allow-list, and `html_to_text` produces the text the matching engine reads.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import nh3

__all__ = ["html_to_text", "safe_url", "sanitize_html", "text_to_html"]

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "div", "dl", "dt",
        "em", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s", "small",
        "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
        "u", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}
ALLOWED_URL_SCHEMES = frozenset({"http", "https"})
LINK_SCHEMES = frozenset({"http", "https"})
# Browsers drop tabs and line breaks inside a URL ("java\tscript:") and ignore
# leading control characters: a URL holding any of them is refused outright.
_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f]")

# Elements whose boundaries separate lines; inline elements (span, b, sup ...)
# do not, so "<span>Q</span>UALITY" stays one word. Table cells end with a space.
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "caption", "dd", "div", "dl", "dt",
        "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
        "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "tfoot", "thead",
        "tr", "ul",
    }
)  # fmt: skip
_SKIP_TAGS = frozenset({"script", "style", "template", "noscript", "head", "title"})
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def safe_url(url: str | None) -> str | None:
    """`url` if it is an absolute http(s) address with a host, else None.

    The one check every link from a feed passes before it is shown or sent
    (call page, project page, digest, calendar, exports): ``javascript:``,
    ``data:``, ``vbscript:``, relative and protocol-relative URLs come back as
    None, so they are printed as text or not at all.
    """
    if not url:
        return None
    text = url.strip().replace(" ", "%20")
    if not text or _URL_UNSAFE.search(text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in LINK_SCHEMES or not parts.hostname:
        return None
    return text


def sanitize_html(raw: str | None) -> str:
    """Return `raw` reduced to an allow-list of tags and attributes, safe to display.

    Scripts, styles, images, event handlers, inline styles and non-http(s) links
    are removed; links get ``rel="noopener noreferrer nofollow"``.
    """
    if not raw:
        return ""
    return nh3.clean(
        raw,
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


_BOUNDARY = re.compile(
    r"<(/?)(" + "|".join(sorted(_BLOCK_TAGS | {"td", "th"})) + r")\b[^>]*>", re.IGNORECASE
)


def _boundary(match: re.Match[str]) -> str:
    closing, tag = match.group(1), match.group(2).lower()
    if tag in ("td", "th"):
        return " " if closing else ""
    if tag == "li" and not closing:
        return "\n- "
    return "\n"


def html_to_text(raw: str | None) -> str:
    """Plain text of an HTML fragment: entities decoded, blocks on their own lines.

    Inline markup does not split words; paragraphs, list items and table rows
    become lines; runs of spaces (incl. no-break spaces) collapse to one.
    Scripts, styles and comments are dropped. Block tags are turned into line
    breaks first; nh3 then removes every remaining tag (much faster than
    Python's HTML parser, which this ran on for every fetched description).
    """
    if not raw:
        return ""
    if "<" not in raw and "&" not in raw:
        text = raw
    else:
        marked = _BOUNDARY.sub(_boundary, raw)
        text = html.unescape(
            nh3.clean(marked, tags=set(), clean_content_tags=set(_SKIP_TAGS), strip_comments=True)
        )
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\r", "\n").split("\n"))
    text = "\n".join(lines)
    return _BLANK_LINES.sub("\n", text).strip()


def text_to_html(text: str | None) -> str:
    """Escape plain text into HTML paragraphs (for sources that deliver text)."""
    if not text or not text.strip():
        return ""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(
        "<p>" + "<br>".join(html.escape(line) for line in p.splitlines()) + "</p>"
        for p in paragraphs
    )
