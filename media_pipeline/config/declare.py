"""How a key is declared and read: its kind, default, checks and documentation (`Key`), a table of
keys (`Table`, which also renders its part of docs/formats.md), and `read`, which reads and
validates a table's keys from a file. The declarations themselves are in `keys`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from media_pipeline.config.fields import Fields
from media_pipeline.config.times import parse_duration, parse_time
from media_pipeline.util.redact import redact_url

WEB_URL = re.compile(r"^https?://[^/\s]+")

# The kinds of value, and how docs/formats.md names each. `tables` and `transcript` are read by
# their reader; the others by `read`.
KINDS = {
    "text": "text", "url": "text", "int": "whole number", "number": "number", "bool": "true/false",
    "texts": "list of text", "urls": "list of text", "path": "path", "env": '`{ env = "NAME" }`',
    "time": "date and time", "duration": "time", "tables": "list of tables",
    "transcript": "path, table or list of tables", "descriptions": "path, table or list of tables",
    "table": "table",
}


@dataclass(frozen=True)
class Key:
    """One key: what it holds, what it is when absent, what it may be, and what it means."""

    name: str
    kind: str
    doc: str
    default: Any = None
    required: bool = False
    choices: tuple[str, ...] = ()
    minimum: int | None = None  # for whole numbers
    multiline: bool = False  # text that may hold line breaks
    limit: int | None = None  # most characters, where not the kind's own
    web: bool = False  # URLs that must be http(s)
    attr: str | None = None  # the model's field, where it is named otherwise
    shown: str | None = None  # the docs' default, where the value alone does not say it

    @property
    def field(self) -> str:
        return self.attr or self.name

    def type_text(self) -> str:
        return KINDS[self.kind] + (", **required**" if self.required else "")

    def default_text(self) -> str:
        if self.required:
            return ""
        if self.shown is not None:
            return self.shown
        if self.default is None:
            return "`[]`" if self.kind in ("texts", "urls", "tables") else "none"
        if isinstance(self.default, bool):
            return f"`{str(self.default).lower()}`"
        if isinstance(self.default, tuple):
            return f"`{json.dumps(list(self.default))}`"
        if isinstance(self.default, str):
            return f'`"{self.default}"`'
        return f"`{self.default!r}`"


@dataclass(frozen=True)
class Table:
    """The keys of one table of a file (`""`: its top level), in the order docs list them."""

    name: str
    keys: tuple[Key, ...]

    def __getitem__(self, name: str) -> Key:
        return next(k for k in self.keys if k.name == name)

    def markdown(self) -> str:
        """The table's rows as docs/formats.md shows them."""
        rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
        for k in self.keys:
            rows.append("|" + "|".join(f" {cell} " if cell else " " for cell in
                                       (f"`{k.name}`", k.type_text(), k.default_text(), k.doc)) + "|")
        return "\n".join(rows)


def read(f: Fields, table: Table, base: Path | None = None, zone: ZoneInfo | None = None) -> dict[str, Any]:
    """{model field: value} of every key of `table` that `read` reads, each checked as declared;
    a key with a problem gets its default (the problem is in `f.problems`)."""
    values: dict[str, Any] = {}
    for k in table.keys:
        if k.kind == "text":
            value = f.str(k.name, k.default, k.required, choices=k.choices, multiline=k.multiline, limit=k.limit)
        elif k.kind == "url":
            value = f.url(k.name, k.default, k.required)
        elif k.kind == "int":
            value = f.int(k.name, k.default, k.required, minimum=k.minimum)
        elif k.kind == "number":
            value = f.float(k.name, k.default, k.required)
        elif k.kind == "bool":
            value = f.bool(k.name, k.default, k.required)
        elif k.kind in ("texts", "urls"):
            value = f.str_list(k.name, urls=k.kind == "urls") or (k.default or ())
            if k.web:
                for url in value:
                    if not WEB_URL.match(url):
                        f.error(k.name, f"must be http(s) URLs, not {redact_url(url)!r}")
                value = tuple(url for url in value if WEB_URL.match(url))
        elif k.kind == "path":
            value = f.path_value(k.name, base or Path(), required=k.required)
        elif k.kind == "env":
            value = f.env(k.name)
        elif k.kind == "time" and zone is not None:
            value = parse_time(f, k.name, zone, required=k.required)
        elif k.kind == "duration":
            value = parse_duration(f, k.name, required=k.required)
        else:
            continue
        values[k.field] = value
    return values
