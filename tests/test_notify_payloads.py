"""Hostile titles against each chat service's payload (issue 22, must show 3): a producer's text
reaches Slack, Teams and Mattermost escaped, mention-free and within each service's limits; and the
checks are shown to fail when the escaping is switched off."""

from __future__ import annotations

import json
import re

import pytest

from media_pipeline.notify import payloads
from media_pipeline.notify.messages import Message

CHANNEL = "<!channel>"
SLACK_LINK = "<http://evil.example|klikkaa>"
MD_LINK = "[linkki](http://evil.example)"
MENTIONS = "@channel @all @here"
HOSTILE = f"{CHANNEL} {SLACK_LINK} {MD_LINK} {MENTIONS} & <b>"
LONG = "Ääni " * 840  # 4,200 characters
LINK = "https://cdn.example.fi/podcasts/testi/e1/index.html"


def message(title: str) -> Message:
    return Message(show="Näkökulmia <ihmiskeskeisyyteen> @here", title=title, duration="24 min", link=LINK,
                   heading="Uusi jakso", listen="Kuuntele")


def slack_texts(payload: dict) -> list[str]:
    """Every string of a Slack payload Slack parses as mrkdwn."""
    return [payload["text"], *[b["text"]["text"] for b in payload["blocks"]]]


def mattermost_texts(payload: dict) -> list[str]:
    return [payload["text"]]


def teams_markup_texts(payload: dict) -> list[str]:
    """The strings of a Teams card that Teams parses as Markdown: those of TextBlocks (TextRuns are
    shown as they are)."""
    card = payload["attachments"][0]["content"]
    return [b["text"] for b in card["body"] if b["type"] == "TextBlock"]


def teams_runs(payload: dict) -> list[str]:
    card = payload["attachments"][0]["content"]
    return [run["text"] for b in card["body"] if b["type"] == "RichTextBlock" for run in b["inlines"]]


def live_slack_markup(text: str) -> list[str]:
    """What Slack would act on: `<...>` sequences (links, `<!channel>`, user mentions) and raw `&`."""
    return re.findall(r"<[^>]*>", text.replace(f"<{LINK}|", "").replace(f"{LINK}>", "")) + \
        re.findall(r"&(?!amp;|lt;|gt;)", text)


def live_mentions(text: str) -> list[str]:
    return re.findall(r"(?<![\w\u2060])@(channel|all|here|everyone)\b", text)


def live_markdown_links(text: str) -> list[str]:
    """`[text](url)` links other than the episode's own (an unescaped `[` ... `](`)."""
    return [m for m in re.findall(r"(?<!\\)\[[^\]]*?(?<!\\)\]\((?!" + re.escape(LINK) + r")", text)]


@pytest.mark.parametrize("title", [HOSTILE, CHANNEL, SLACK_LINK, MD_LINK, MENTIONS])
def test_slack_text_and_blocks_carry_no_live_markup_or_mention(title):
    payload = payloads.slack_payload(message(title))
    for text in slack_texts(payload):
        assert live_slack_markup(text) == [], text
        assert live_mentions(text) == [], text
    assert f"<{LINK}|" in payload["blocks"][0]["text"]["text"], "the episode's own link stays a link"
    # what the listener reads is the title itself: entities and an invisible joiner only
    shown = payload["text"].split("\n")[0].replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert shown.replace(payloads.WORD_JOINER, "") == f"Uusi jakso: {title}"


@pytest.mark.parametrize("title", [HOSTILE, MD_LINK, MENTIONS])
def test_mattermost_text_has_no_live_link_or_mention(title):
    (text,) = mattermost_texts(payloads.mattermost_payload(message(title)))
    assert live_markdown_links(text) == [], text
    assert live_mentions(text) == [], text
    assert f"]({LINK})" in text, "the episode's own link stays a link"


@pytest.mark.parametrize("title", [HOSTILE, MD_LINK, MENTIONS])
def test_teams_shows_the_title_only_as_plain_text_runs(title):
    payload = payloads.teams_payload(message(title))
    assert teams_markup_texts(payload) == [], "no producer text in a Markdown-parsing TextBlock"
    assert payloads.no_mentions(title) in teams_runs(payload)
    card = payload["attachments"][0]["content"]
    assert card["actions"][0]["url"] == LINK
    assert "http://evil.example" not in json.dumps(card["actions"])


@pytest.mark.parametrize(("build", "texts", "limit"), [
    (payloads.slack_payload, slack_texts, payloads.SLACK_LIMIT),
    (payloads.mattermost_payload, mattermost_texts, payloads.MATTERMOST_LIMIT),
    (payloads.teams_payload, teams_runs, payloads.TEAMS_TITLE_LIMIT),
], ids=["slack", "mattermost", "teams"])
@pytest.mark.parametrize("title", [LONG, "&" * 4200, ("<!channel> " * 420)], ids=["words", "ampersands", "markup"])
def test_a_4200_character_title_is_cut_to_fit_the_service_escapes_and_all(build, texts, limit, title):
    payload = build(message(title))
    for text in texts(payload):
        assert len(text) <= limit, (len(text), limit)
        assert live_mentions(text) == []
    joined = "".join(texts(payload))
    assert payloads.ELLIPSIS in joined, "a cut title says so"
    if build is payloads.slack_payload:
        for text in texts(payload):
            assert not re.search(r"&(?!amp;|lt;|gt;)", text), "no entity cut in half"


def test_the_limits_are_the_services_own():
    assert payloads.SLACK_LIMIT == 3000  # Block Kit: a section's text is at most 3,000 characters
    assert payloads.MATTERMOST_LIMIT <= 4000  # the post size of Mattermost servers before 5.0


@pytest.mark.parametrize(("service", "escape"), [
    ("slack", "slack_escape"), ("mattermost", "markdown_escape"), ("all", "no_mentions")])
def test_with_escaping_switched_off_the_hostile_title_gets_through(monkeypatch, service, escape):
    """The checks above can fail: with an escape replaced by the identity, the hostile text reaches
    the service live."""
    monkeypatch.setattr(payloads, escape, lambda text: text)
    slack = slack_texts(payloads.slack_payload(message(HOSTILE)))
    mattermost = mattermost_texts(payloads.mattermost_payload(message(HOSTILE)))
    if service == "slack":
        assert CHANNEL in slack[0] and SLACK_LINK in slack[1]
        assert any(live_slack_markup(text) for text in slack)
    elif service == "mattermost":
        assert MD_LINK in mattermost[0] and live_markdown_links(mattermost[0])
    else:
        assert not payloads.no_mentions("@all").startswith("@" + payloads.WORD_JOINER)
        assert live_mentions(mattermost[0]) or live_mentions(" ".join(slack))


def test_the_webhook_carries_the_title_as_data_with_a_stable_event_id(workspace):
    from publish_support import load

    from media_pipeline.publishing.manifest import EpisodeRecord

    workspace.show()
    ws, catalog = load(workspace.root)
    show = catalog.shows["testi"]
    from datetime import datetime, timezone

    record = EpisodeRecord("guid-1", "e1", "live", datetime(2026, 9, 1, tzinfo=timezone.utc), 60.0)
    body = payloads.webhook_payload(ws, show, record, message(HOSTILE))
    again = payloads.webhook_payload(ws, show, record, message("another title"))
    other = payloads.webhook_payload(ws, show, EpisodeRecord("guid-2", "e1", "live", record.publish_at, 60.0),
                                     message(HOSTILE))
    assert body["episode"]["title"] == HOSTILE, "JSON data, not markup: the receiver escapes for its own use"
    assert body["id"] == again["id"] != other["id"]
    assert re.fullmatch(r"[0-9a-f-]{36}", body["id"])
