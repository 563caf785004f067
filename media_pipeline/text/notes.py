"""Show notes: Markdown to sanitised HTML for `content:encoded` (only tags podcast apps display; no
scripts, event handlers or javascript: URLs) and to plain text for `description`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from html.parser import HTMLParser

import nh3
from markdown_it import MarkdownIt

# Apple Podcasts renders <p>, <ol>, <ul>, <li> and <a> in show notes; the rest of this set is what
# common podcast apps display as text formatting. Anything else is unwrapped to its text.
ALLOWED_TAGS = frozenset({
    "a", "p", "br", "ul", "ol", "li", "em", "strong", "b", "i", "code", "pre", "blockquote",
    "h1", "h2", "h3", "h4", "h5", "h6",
})
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
# No javascript:, data: or relative URLs: a feed has no base URL, and apps open links outside it.
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# These elements lose their content too, not just their tags: their text is never meant to be read.
DROPPED_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "embed", "template", "noscript"})

_markdown = MarkdownIt("commonmark", {"html": True, "typographer": False})
# markdown-it leaves a link it distrusts as literal text, "javascript:..." included; let it render
# every link and leave the decision to the sanitiser, which drops such an href and keeps the words.
_markdown.validateLink = lambda url: True


@dataclass(frozen=True)
class RenderedNotes:
    html: str  # sanitised HTML for content:encoded
    text: str  # plain text for description


@functools.lru_cache(maxsize=4096)
def render_notes(markdown: str) -> RenderedNotes:
    """Render Markdown show notes to sanitised HTML and to plain text (once per text and process:
    the gate, the feed and the pages of one run all ask for the same episode's notes)."""
    raw = _markdown.render(markdown or "")
    clean = sanitise_html(raw).strip()
    return RenderedNotes(html=clean, text=html_to_text(clean))


def sanitise_html(fragment: str) -> str:
    """Keep only the tags, attributes and URL schemes podcast apps display safely."""
    cleaned = nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_absolute_links_only,
        url_schemes=set(URL_SCHEMES),
        link_rel=_LINK_REL,
        strip_comments=True,
    )
    # A link whose address was removed is no longer a link: keep its words only.
    return _BARE_ANCHOR.sub(r"\1", cleaned)


_LINK_REL = "noopener noreferrer"
_BARE_ANCHOR = re.compile(r'<a (?![^>]*\bhref=)[^>]*>(.*?)</a>', re.S)


def _absolute_links_only(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "href" and value.split(":", 1)[0].lower() not in URL_SCHEMES:
        return None
    return value


_BLOCKS = {"p", "ul", "ol", "pre", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6"}


class _TextWriter(HTMLParser):
    """Plain text from sanitised HTML: blank line between blocks, "- " before list items, and a
    link's address after its text when the two differ (a plain-text reader cannot click)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lists: list[list[int]] = []  # per open list: [is_ordered, counter]
        self.link: str | None = None
        self.link_text: list[str] = []
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self._break(1 if tag in ("ul", "ol") and self.lists else 2)
        if tag in ("ul", "ol"):
            start = dict(attrs).get("start") or "1"
            self.lists.append([tag == "ol", int(start) - 1 if start.isdigit() else 0])
        elif tag == "li":
            self._break(1)
            depth = max(len(self.lists) - 1, 0)
            marker = "- "
            if self.lists and self.lists[-1][0]:
                self.lists[-1][1] += 1
                marker = f"{self.lists[-1][1]}. "
            self.out.append("  " * depth + marker)
        elif tag == "br":
            self.out.append("\n")
        elif tag == "pre":
            self.pre += 1
        elif tag == "a":
            self.link = dict(attrs).get("href")
            self.link_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        if tag == "pre":
            self.pre -= 1
        if tag == "a" and self.link:
            text = "".join(self.link_text).strip()
            target = self.link.removeprefix("mailto:")
            if target and text not in (target, self.link):
                self.out.append(f" ({target})")
            self.link = None
        if tag in _BLOCKS:
            self._break(1 if tag in ("ul", "ol") and self.lists else 2)

    def handle_data(self, data: str) -> None:
        if not self.pre:
            data = re.sub(r"\s+", " ", data)
            if not "".join(self.out[-1:]).strip(" ") or "".join(self.out[-1:]).endswith("\n"):
                data = data.lstrip()
        if self.link is not None:
            self.link_text.append(data)
        self.out.append(data)

    def _break(self, lines: int) -> None:
        text = "".join(self.out).rstrip(" ")
        if not text:
            self.out = []
            return
        trailing = len(text) - len(text.rstrip("\n"))
        self.out = [text + "\n" * max(0, lines - trailing)]

    def text(self) -> str:
        lines = [line.rstrip() for line in "".join(self.out).splitlines()]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(fragment: str) -> str:
    """Readable plain text of an HTML fragment (used for the RSS description)."""
    writer = _TextWriter()
    writer.feed(fragment)
    writer.close()
    return writer.text()
