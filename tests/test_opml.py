"""The programme's OPML subscription list."""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from media_pipeline.errors import ConfigError
from media_pipeline.feeds.opml import build_opml

from feed_support import AUDIO_FEED_URL, WEBINAR_FEED_URL, audio_show, webinar_show


def test_opml_lists_every_show_feed():
    shows = [(audio_show(), AUDIO_FEED_URL), (webinar_show(), WEBINAR_FEED_URL)]
    data = build_opml(shows, title="AuroraAI-ohjelman podcastit")
    root = etree.fromstring(data)
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") == "AuroraAI-ohjelman podcastit"
    outlines = root.findall("body/outline")
    assert [(o.get("type"), o.get("text"), o.get("xmlUrl"), o.get("htmlUrl"), o.get("language")) for o in outlines] == [
        ("rss", "Näkökulmia ihmiskeskeisyyteen", AUDIO_FEED_URL, "https://example.fi/ihmiskeskeisyys", "fi"),
        ("rss", "Tekoälywebinaarisarja", WEBINAR_FEED_URL, "https://example.fi/webinaarit", "fi"),
    ]
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert build_opml(shows, title="AuroraAI-ohjelman podcastit") == data  # no clock in it
    dated = etree.fromstring(build_opml(shows, title="x", created=dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone.utc)))
    assert dated.findtext("head/dateCreated") == "Sun, 01 Mar 2026 12:00:00 +0000"


def test_opml_refuses_a_relative_feed_url():
    with pytest.raises(ConfigError, match="ihmiskeskeisyys.toml: feed_url: feed URL 'feed.xml' must be an absolute"):
        build_opml([(audio_show(), "feed.xml")], title="x")
