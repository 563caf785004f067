"""What each service is sent: the WebSub and podping requests, and a message in each chat
service's own markup, with the producer's text escaped, mentions neutralised and lengths within
the service's limits.

A title is the producer's text, and producers paste. `<!channel>` would page a whole Slack
workspace, `[linkki](http://evil.example)` would be a link in Teams or Mattermost, `@all` would
notify every member of a Mattermost channel: none of that may reach a service as markup.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import uuid
from typing import Callable

from media_pipeline import __version__, layout
from media_pipeline.layout import feed_url
from media_pipeline.model import Catalog, Show, Workspace
from media_pipeline.notify.channels import Notice
from media_pipeline.notify.delivery import Request
from media_pipeline.notify.messages import Message, episode_message
from media_pipeline.publishing.manifest import EpisodeRecord, Manifest

USER_AGENT = f"media-pipeline/{__version__} (+https://github.com/media-pipeline)"
EVENT_HEADER = "Webhook-Id"  # the Standard Webhooks name for a delivery's stable identity
_EVENTS = uuid.UUID("5b0c7f3e-6a1d-4f0e-9a57-0d6c1f6f2a11")  # namespace of the event ids

# Limits of each service, in characters of the text it is sent.
SLACK_LIMIT = 3000  # a section block's text (Block Kit); the top-level text is cut to the same
MATTERMOST_LIMIT = 4000  # a post's message on servers before 5.0 (16,383 since): the lower one is safe everywhere
TEAMS_TITLE_LIMIT = 1000  # a card has 28 KB in all; a title is a line, not a page
ELLIPSIS = "…"

WORD_JOINER = "\u2060"  # invisible, joins nothing: "@\u2060all" reads as @all and mentions no one
_MENTION = re.compile(r"@(?=\w)")


def no_mentions(text: str) -> str:
    """`text` with every `@word` made inert (`@channel`, `@all`, `@here`, `@everyone`, `@user`): the
    services look for @ followed by a name; a word joiner between them is invisible and breaks that."""
    return _MENTION.sub("@" + WORD_JOINER, text)


def slack_escape(text: str) -> str:
    """Slack mrkdwn: `&`, `<` and `>` are its control characters (links, `<!channel>`, user
    mentions) and go as entities; plain @-mentions are neutralised too."""
    return no_mentions(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


_MARKDOWN = frozenset("\\`*_[]()#<>|~!")


def markdown_escape(text: str) -> str:
    """Mattermost Markdown: every character that can start markup gets a backslash, mentions are neutralised."""
    return no_mentions("".join(f"\\{c}" if c in _MARKDOWN else c for c in text))


def fit(text: str, render: Callable[[str], str], limit: int) -> str:
    """The longest start of `text` (ending in … when cut) whose rendering, escaped and all, is at
    most `limit` characters. Escaping can lengthen text (`&` becomes `&amp;`), so the cut is
    measured on the rendering, never on the raw text."""
    if len(render(text)) <= limit:
        return text
    low, high = 0, len(text)
    while low < high:  # the largest k with render(text[:k] + …) within the limit
        mid = (low + high + 1) // 2
        if len(render(text[:mid] + ELLIPSIS)) <= limit:
            low = mid
        else:
            high = mid - 1
    return text[:low].rstrip() + ELLIPSIS


def slack_payload(msg: Message) -> dict:
    """Slack incoming webhook: `text` is the push notification and screen-reader fallback; the block
    carries the same with a link. Both are mrkdwn, both escaped."""
    def block(title: str) -> str:
        return (f"*{slack_escape(msg.heading)}: <{msg.link}|{slack_escape(title)}>*\n"
                f"{slack_escape(msg.show)} · {slack_escape(msg.duration)}")

    def text(title: str) -> str:
        return (f"{slack_escape(msg.heading)}: {slack_escape(title)}\n{slack_escape(msg.show)} · "
                f"{slack_escape(msg.duration)}\n{slack_escape(msg.link)}")

    title = fit(msg.title, lambda t: max(block(t), text(t), key=len), SLACK_LIMIT)
    return {"text": text(title), "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": block(title)}}]}


def mattermost_payload(msg: Message) -> dict:
    def text(title: str) -> str:
        return (f"**{markdown_escape(msg.heading)}: [{markdown_escape(title)}]({msg.link})**\n"
                f"{markdown_escape(msg.show)} · {markdown_escape(msg.duration)}")

    return {"text": text(fit(msg.title, text, MATTERMOST_LIMIT))}


def text_run(text: str, **style) -> dict:
    """A TextRun: Adaptive Cards render its text as it is, with no Markdown (a TextBlock parses
    links and emphasis). Teams mentions need an `<at>` entity, so plain `@all` is inert there; it
    is neutralised all the same, as everywhere, for clients that guess."""
    return {"type": "TextRun", "text": no_mentions(text), **style}


def teams_payload(msg: Message) -> dict:
    """An Adaptive Card in a message, which both Teams workflow webhooks and the older incoming
    webhooks accept. The producer's text (title, show) goes only in TextRuns."""
    title = fit(msg.title, lambda t: t, TEAMS_TITLE_LIMIT)
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4",
        "body": [{"type": "RichTextBlock", "inlines": [text_run(msg.heading, size="Small", isSubtle=True)]},
                 {"type": "RichTextBlock", "inlines": [text_run(title, weight="Bolder", size="Medium")]},
                 {"type": "RichTextBlock", "inlines": [text_run(f"{msg.show} · {msg.duration}")]}],
        "actions": [{"type": "Action.OpenUrl", "title": msg.listen, "url": msg.link}],
    }
    return {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                                                "contentUrl": None, "content": card}]}


def event_id(show: Show, record: EpisodeRecord, event: str = "episode.published") -> str:
    """The same for every copy of one event, from every run and machine, so a receiver can drop
    duplicates: derived from the episode's guid (permanent) and the event."""
    return str(uuid.uuid5(_EVENTS, f"{event}\n{show.slug}\n{record.guid}"))


def webhook_payload(ws: Workspace, show: Show, record: EpisodeRecord, msg: Message) -> dict:
    """The generic webhook's JSON (docs/notifications.md lists every field); plain text, unescaped."""
    return {"id": event_id(show, record), "event": "episode.published", "text": msg.text,
            "show": {"slug": show.slug, "title": show.title, "language": show.language,
                     "feed_url": feed_url(ws, show), "link": show.link or layout.show_page_url(ws, show)},
            "episode": {"guid": record.guid, "slug": record.slug, "title": msg.title,
                        "published_at": record.publish_at.isoformat(), "duration_seconds": round(record.duration),
                        "url": msg.link}}


CHAT_PAYLOADS: dict[str, Callable[[Message], dict]] = {
    "slack": slack_payload, "mattermost": mattermost_payload, "teams": teams_payload}


def build_request(ws: Workspace, catalog: Catalog, show: Show, m: Manifest, notice: Notice,
                  environ: dict[str, str]) -> Request:
    channel = notice.channel
    secret = environ.get(channel.env, "") if channel.env else ""
    headers = {"User-Agent": USER_AGENT}
    if channel.kind == "hub":
        # WebSub publish (the de-facto form PubSubHubbub hubs accept): form-encoded mode and URL.
        form = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": feed_url(ws, show)}).encode()
        return Request("POST", channel.url or "", form,
                       {**headers, "Content-Type": "application/x-www-form-urlencoded"})
    if channel.kind == "podping":
        # podping.cloud: GET /?url=FEED&reason=update&medium=..., the token in Authorization.
        query = urllib.parse.urlencode({"url": feed_url(ws, show), "reason": "update",
                                        "medium": show.medium or "podcast"})
        base = channel.url or ""
        return Request("GET", f"{base}{'&' if '?' in base else '?'}{query}", None,
                       {**headers, "Authorization": secret}, (secret,))
    record = m.episodes[notice.item]
    msg = episode_message(ws, catalog, show, record)
    headers["Content-Type"] = "application/json; charset=utf-8"
    if channel.kind == "webhook":
        data = webhook_payload(ws, show, record, msg)
        headers[EVENT_HEADER] = data["id"]
    else:
        data = CHAT_PAYLOADS[channel.kind](msg)
    return Request("POST", secret, json.dumps(data, ensure_ascii=False).encode(), headers, (secret,))
