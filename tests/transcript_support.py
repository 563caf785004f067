"""Readers for the transcript tests: the Podcasting 2.0 JSON transcript schema, and the
subtitle tracks of an MP4 as ffmpeg and webvtt-py read them."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import webvtt

from media_pipeline.audio import ffmpeg

# Written from the Podcasting 2.0 transcripts spec (podcast-namespace, docs/examples/transcripts/
# transcripts.md, "JSON"): an object with "version" "1.0.0" and "segments", each segment a
# "body" with "startTime" and "endTime" in seconds (floats) and an optional "speaker".
JSON_TRANSCRIPT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["version", "segments"],
    "properties": {
        "version": {"const": "1.0.0"},
        "segments": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["startTime", "endTime", "body"],
                "additionalProperties": False,
                "properties": {
                    "speaker": {"type": "string", "minLength": 1},
                    "startTime": {"type": "number", "minimum": 0},
                    "endTime": {"type": "number", "minimum": 0},
                    "body": {"type": "string", "minLength": 1},
                },
            },
        },
    },
}

_SUBTITLE = re.compile(r"Stream #0:(\d+)(?:\[0x[0-9a-f]+\])?\((\w+)\): Subtitle: (\w+)")


def _ms(stamp: str) -> int:
    hours, minutes, seconds = stamp.split(":")
    return round((int(hours) * 3600 + int(minutes) * 60 + float(seconds)) * 1000)


def vtt_cues(path: Path) -> list[tuple[int, int, str]]:
    """(start ms, end ms, words) of each cue, as webvtt-py reads the file."""
    return [(_ms(c.start), _ms(c.end), " ".join(c.text.split())) for c in webvtt.read(str(path))]


def mp4_subtitles(path: Path) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """(language, cues) of each mov_text subtitle stream of an MP4, in stream order: ffmpeg lists
    the streams and converts each back to WebVTT, which webvtt-py reads."""
    stderr = ffmpeg.run(["-i", path, "-f", "null", "-"], what=path).stderr.split("Output #0")[0]
    found = [(m.group(2), m.group(3)) for m in map(_SUBTITLE.search, stderr.splitlines()) if m]
    out = []
    with tempfile.TemporaryDirectory() as scratch:
        for i, (language, codec) in enumerate(found):
            assert codec == "mov_text", codec
            target = Path(scratch) / f"{i}.vtt"
            ffmpeg.run(["-i", path, "-map", f"0:s:{i}", "-f", "webvtt", target], what=path)
            out.append((language, vtt_cues(target)))
    return out
