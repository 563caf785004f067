"""Notifications after a run: what the published state owes each show's WebSub hubs, podping and chat
channels, sent once per channel and recorded (docs/notifications.md).

`channels` (who is told), `record` (the typed notification record and what is owed), `messages`
(what a message says), `payloads` (each service's request and markup), `delivery` (HTTP), `run`
(claim, send, record, report).
"""

from media_pipeline.notify.run import NotifyReport, after_run

__all__ = ["NotifyReport", "after_run"]
