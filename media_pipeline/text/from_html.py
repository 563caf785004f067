"""Show notes written as HTML elsewhere (another host's feed) turned into the Markdown an episode
file holds, through the same sanitiser as published notes, so nothing an app would not show
survives the round trip.
"""

from __future__ import annotations

import html
import re

from markdownify import MarkdownConverter

from media_pipeline.text.notes import sanitise_html

_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_BLANK_LINES = re.compile(r"\n{3,}")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")


class _Converter(MarkdownConverter):
    """markdownify with the project's Markdown habits: ATX headings, "-" bullets."""


_converter = _Converter(heading_style="ATX", bullets="-", newline_style="backslash", escape_asterisks=True, escape_underscores=True,
                        strip=None)


def looks_like_html(text: str) -> bool:
    """Whether `text` holds any HTML tag (many feeds send plain text with entities only)."""
    return bool(_TAG.search(text))


def html_to_markdown(text: str) -> str:
    """Markdown for notes given as HTML (or as plain text): sanitised first, exactly as published
    notes are (`text.notes.sanitise_html`), so scripts, styles, event handlers and javascript: links
    are gone before anything is written into a producer's file."""
    text = (text or "").strip()
    if not text:
        return ""
    if not looks_like_html(text):
        # plain text: paragraphs at blank lines, line breaks kept, every character literal
        paragraphs = [p for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if p.strip()]
        text = "".join(f"<p>{html.escape(p.strip()).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    markdown = _converter.convert(sanitise_html(text))
    markdown = _TRAILING_SPACE.sub("\n", markdown.replace("\r\n", "\n").replace("\xa0", " "))
    return _BLANK_LINES.sub("\n\n", markdown).strip()
