"""What `stats` keeps between runs, in one private object beside the manifests
(`_private/stats/summary.json`): the logs already read, the counts, the header sizes of the media,
and the open measurement days with their keys and pseudonyms. One object, written with a
conditional write, so a run that dies leaves the last whole summary and the next run reads its logs
again without counting anything twice."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from media_pipeline.errors import StorageError
from media_pipeline.layout import STATS_SUMMARY_KEY
from media_pipeline.stats.count import OpenDays, Tally
from media_pipeline.storage import PreconditionFailed, Storage

FORMAT = 1
RULES = ("IAB Tech Lab Podcast Technical Measurement Guidelines v2.3 (the v2.2 rules), "
         "calendar-day window in UTC, listener = IP (IPv6 /64) + user agent")


@dataclass
class Summary:
    logs: dict = field(default_factory=dict)  # name -> {"read": bytes read, "head": digest of the first 4 KiB}
    tally: Tally = field(default_factory=Tally)
    headers: dict = field(default_factory=dict)  # sha256 of a rendition -> its header size, or None
    open_days: OpenDays = field(default_factory=OpenDays)
    closed_through: str | None = None  # every day up to this one is closed
    etag: str | None = None

    def to_bytes(self) -> bytes:
        doc = {"format": FORMAT, "rules": RULES, "closed_through": self.closed_through,
               "logs": self.logs, "downloads": self.tally.downloads, "pages": self.tally.pages,
               "left_out": self.tally.left_out, "headers": self.headers, "open_days": self.open_days.days}
        return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False).encode() + b"\n"


def load(storage: Storage) -> Summary:
    found = storage.get_bytes(STATS_SUMMARY_KEY)
    if found is None:
        return Summary()
    data, info = found
    try:
        doc = json.loads(data)
        if doc.get("format") != FORMAT:
            raise ValueError(f"format {doc.get('format')!r}, this version reads {FORMAT}")
        return Summary(logs=doc["logs"], tally=Tally(doc["downloads"], doc["pages"], doc["left_out"]),
                       headers=doc["headers"], open_days=OpenDays(doc["open_days"]),
                       closed_through=doc["closed_through"], etag=info.etag)
    except (ValueError, KeyError, TypeError) as exc:
        raise StorageError(f"the stats summary cannot be read ({exc}); move it aside to count again "
                           "from the logs", path=STATS_SUMMARY_KEY) from None


def save(storage: Storage, summary: Summary) -> None:
    try:
        info = storage.put_bytes(STATS_SUMMARY_KEY, summary.to_bytes(), content_type="application/json",
                                 cache_control="no-store", if_match=summary.etag,
                                 if_absent=summary.etag is None)
    except PreconditionFailed:
        raise StorageError("another stats run changed the summary while this one counted; nothing "
                           "was lost: run again", path=STATS_SUMMARY_KEY) from None
    summary.etag = info.etag
