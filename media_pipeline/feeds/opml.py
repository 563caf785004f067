"""The programme's OPML 2.0 subscription list: every show's feed, to subscribe to all at once."""

from __future__ import annotations

import datetime as dt
from email.utils import format_datetime
from typing import Sequence

from lxml import etree

from media_pipeline import layout
from media_pipeline.errors import ConfigError
from media_pipeline.feeds.lint import url_reason
from media_pipeline.model import Catalog, Show, Workspace
from media_pipeline.storage import Storage


def build_opml(feeds: Sequence[tuple[Show, str]], *, title: str, created: dt.datetime | None = None) -> bytes:
    """An OPML 2.0 document (UTF-8) with one `rss` outline per (show, feed URL), in the given order.

    No date is written unless `created` is given, so the same shows give the same bytes.
    """
    for show, url in feeds:
        if reason := url_reason(url):
            raise ConfigError(f"feed URL {reason}", path=show.path, field="feed_url")
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    if created is not None:
        etree.SubElement(head, "dateCreated").text = _rfc822(created)
    body = etree.SubElement(root, "body")
    for show, url in feeds:
        # OPML 2.0 subscription lists: type="rss", text is required, xmlUrl is the feed.
        attrs = {"type": "rss", "text": show.title, "title": show.title, "xmlUrl": url}
        if show.link:
            attrs["htmlUrl"] = show.link
        if show.language:
            attrs["language"] = show.language
        if show.description:
            attrs["description"] = show.description
        etree.SubElement(body, "outline", attrs)
    return etree.tostring(root, pretty_print=True, encoding="UTF-8", xml_declaration=True)


def _rfc822(moment: dt.datetime) -> str:
    return format_datetime(moment.astimezone(dt.timezone.utc))


def store(ws: Workspace, storage: Storage, catalog: Catalog, feeds: list[str]) -> list[str]:
    """`shows.opml`: every show published from this workspace, for apps that import a list; written
    only when it changed. Returns the keys written."""
    got = storage.get_bytes(layout.OPML_KEY)
    existing = got[0] if got else b""
    listed = [(show, layout.feed_url(ws, show)) for show in catalog.shows.values()
              if layout.feed_url(ws, show) in feeds or layout.feed_url(ws, show).encode() in existing]
    data = build_opml(listed, title="Shows")
    if data == existing:
        return []
    seconds = min(s.feed_cache_seconds for s, _ in listed)
    storage.put_bytes(layout.OPML_KEY, data, content_type=layout.content_type_for(layout.OPML_KEY),
                      cache_control=layout.cache_control_for(layout.OPML_KEY, feed_seconds=seconds))
    return [layout.OPML_KEY]
