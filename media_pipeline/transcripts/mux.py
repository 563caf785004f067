"""Soft subtitles in MP4: each publishable transcript as a mov_text track of the video."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from media_pipeline.transcripts.captions import captions
from media_pipeline.transcripts.forms import publishable, to_vtt
from media_pipeline.transcripts.read import load_transcript
from media_pipeline.util.fsutil import atomic_write, replacing

if TYPE_CHECKING:
    from media_pipeline.model import Episode, Show


def subtitle_tracks(show: "Show", episode: "Episode", *, duration: float | None,
                    folder: Path) -> list[tuple[Path, str]]:
    """(WebVTT file, language) of each publishable transcript, for mux_subtitles."""
    tracks = []
    for item in publishable(episode, show):
        language = item.language or show.language
        path = folder / f".{episode.slug}.{language}.subtitles.vtt"
        timed = captions(load_transcript(item.path, duration=duration), show.transcript_settings,
                         language=language, draft=item.draft)
        atomic_write(path, to_vtt(timed))
        tracks.append((path, language))
    return tracks


def mux_subtitles(media: Path, target: Path, tracks: list[tuple[Path, str]]) -> None:
    """Copy `media` to `target` with each WebVTT as a mov_text subtitle track tagged with its
    ISO 639-2 language; audio and video are stream-copied, never re-encoded."""
    from media_pipeline.audio import ffmpeg
    from media_pipeline.tags.tagging import iso639_2

    args: list = ["-y", "-i", media]
    for path, _language in tracks:
        args += ["-i", path]
    args += ["-map", "0:V?", "-map", "0:a?"]
    for i in range(len(tracks)):
        args += ["-map", f"{i + 1}:0"]
    args += ["-c", "copy", "-c:s", "mov_text"]
    for i, (_path, language) in enumerate(tracks):
        args += [f"-metadata:s:s:{i}", f"language={iso639_2(language)}"]
    with replacing(target) as temp:
        ffmpeg.run([*args, "-fflags", "+bitexact", temp], what=media)
