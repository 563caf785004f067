"""Times in the producer's files: publish times in the workspace time zone, chapter offsets."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from media_pipeline.config.fields import MISSING, Fields, type_name

_DURATION = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")


def parse_duration(f: Fields, key: str, required: bool = False) -> float | None:
    """Seconds from `HH:MM:SS(.mmm)`, `MM:SS` or a number of seconds."""
    value = f.raw(key, required)
    if value is MISSING:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if match:
            hours, minutes, seconds = match.groups()
            return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    f.error(key, f"must be a time like 00:12:30 or 750.5 seconds, not {value!r}")
    return None


def parse_time(f: Fields, key: str, zone: ZoneInfo, required: bool = False) -> dt.datetime | None:
    """An aware datetime; a time written without an offset is read in the workspace time zone."""
    value = f.raw(key, required)
    if value is MISSING:
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            f.error(key, f"cannot read {value!r} as a date and time; write it like 2026-03-05T09:00:00+02:00")
            return None
    else:
        f.error(key, f"must be a date and time like 2026-03-05T09:00:00+02:00, not {type_name(value)}")
        return None
    return localize(parsed, zone)


def localize(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """Attach `zone` to a naive time, correctly across daylight-saving changes.

    A wall-clock time that happens twice (autumn) is taken at its first occurrence (fold=0). One
    that never happens (the spring gap) is moved forward by the gap, as a wall clock would show
    it: in Europe/Helsinki 03:30 on the last Sunday of March is 04:30 EEST, 01:30 UTC.
    """
    if moment.tzinfo is not None:
        return moment
    aware = moment.replace(tzinfo=zone, fold=0)
    roundtrip = aware.astimezone(dt.timezone.utc).astimezone(zone)
    if roundtrip.replace(tzinfo=None) != moment:  # in the spring gap: normalise to the real instant
        return roundtrip
    return aware
