"""Reading a show file, `feeds/<show>.toml`, into a `Show`: its channel keys and the `[owner]`,
`[funding]`, `[[persons]]`, `[audio]`, `[transcripts]` and `[notify]` tables."""

from __future__ import annotations

from pathlib import Path

from media_pipeline.config.declare import WEB_URL, read
from media_pipeline.config.fields import Fields, read_toml
from media_pipeline.config.keys import AUDIO, FUNDING, NOTIFY, OWNER, PERSONS, SHOW, TRANSCRIPTS, VIDEO
from media_pipeline.errors import ConfigError, Problem, ValidationError
from media_pipeline.model import (
    AudioSettings,
    Category,
    NotifySettings,
    Owner,
    Person,
    Show,
    TranscriptSettings,
    VideoSettings,
    Workspace,
)
from media_pipeline.util.fsutil import display_path
from media_pipeline.util.redact import redact_url


def show_slugs(ws: Workspace) -> list[str]:
    return sorted(p.stem for p in ws.feeds_dir.glob("*.toml"))


def load_show(ws: Workspace, slug: str, problems: list[Problem] | None = None) -> Show:
    """Load `feeds/<slug>.toml`. With `problems` given, findings are appended, not raised."""
    collect = problems is not None
    problems = [] if problems is None else problems
    path = ws.feeds_dir / f"{slug}.toml"
    if not path.is_file():
        known = ", ".join(show_slugs(ws)) or "none"
        raise ConfigError(f"no such show (known shows: {known})", path=display_path(ws, path))
    start = len(problems)
    unreadable: list[Problem] = []
    data = read_toml(path, unreadable)
    if unreadable:  # nothing below could be read: report that alone, not every key as missing
        raise ConfigError(unreadable[0].reason, path=display_path(ws, path))
    f = Fields(data, display_path(ws, path), problems)
    values = read(f, SHOW, ws.root)
    owner_f = f.table("owner", required=True)
    owner = Owner(**read(owner_f, OWNER))
    owner_f.finish()
    funding_f = f.table("funding")
    funding = read(funding_f, FUNDING)
    funding_f.finish()
    values["categories"] = tuple(_category(c) for c in values["categories"])  # Apple's list: lint.py
    values["artwork"] = values["artwork"] or Path()
    show = Show(
        slug=slug,
        path=path,
        owner=owner,
        **values,
        **funding,
        persons=f.table_list("persons", person),
        transcript_settings=_transcript_settings(f.table("transcripts")),
        audio=_audio(f.table("audio"), ws),
        video=_video(f.table("video")),
        notify=_notify(f.table("notify")),
    )
    f.finish()
    if show.id3_version not in (3, 4):
        problems.append(Problem(display_path(ws, path), "id3_version", f"must be 3 or 4, not {show.id3_version}"))
    if not collect and len(problems) > start:
        raise ValidationError(problems[start:])
    return show


def _category(text: str) -> Category:
    name, _, sub = (part.strip() for part in text.partition(">"))
    return Category(name, sub or None)


def person(f: Fields) -> Person | None:
    values = read(f, PERSONS)
    if not values["name"]:
        return None
    return Person(**values | {"role": values["role"].lower(), "group": values["group"].lower()})


def _audio(f: Fields, ws: Workspace) -> AudioSettings:
    audio = AudioSettings(**read(f, AUDIO, ws.root))
    f.finish()
    if audio.channels not in (1, 2):
        f.error("channels", f"must be 1 (mono) or 2 (stereo), not {audio.channels}")
    if not -40 <= audio.target_lufs <= -5:
        f.error("target_lufs", f"must be between -40 and -5 LUFS, not {audio.target_lufs}")
    if audio.true_peak_db > 0:
        f.error("true_peak", f"must be at or below 0 dBTP, not {audio.true_peak_db}")
    if audio.max_loudness_range is not None and not 3 <= audio.max_loudness_range <= 20:
        f.error("max_loudness_range", f"must be between 3 and 20 LU, not {audio.max_loudness_range:g}")
    for fmt in audio.formats:
        if fmt not in ("mp3", "m4a"):
            f.error("formats", f"unknown format {fmt!r}; use mp3 or m4a")
    return audio


# The rungs a show may ask for, by the short side of the picture (PeerTube's ladder, without 4K).
RENDITION_RUNGS = (1080, 720, 480, 360, 240)


def _video(f: Fields) -> VideoSettings:
    """`[video]`: the renditions, largest first; an explicit empty list turns them off."""
    names = read(f, VIDEO)["renditions"]
    if f.data.get("renditions") == []:
        names = ()
    f.finish()
    rungs = []
    for name in names:
        height = int(name[:-1]) if name[:-1].isdigit() and name.endswith("p") else None
        if height not in RENDITION_RUNGS:
            f.error("renditions", f"unknown rendition {name!r}; use {', '.join(f'{r}p' for r in RENDITION_RUNGS)}")
        elif height not in rungs:
            rungs.append(height)
    return VideoSettings(renditions=tuple(sorted(rungs, reverse=True)))


def _transcript_settings(f: Fields) -> TranscriptSettings:
    """`[transcripts]`: the speech recognition engine and model, and the captioning norms."""
    settings = TranscriptSettings(**read(f, TRANSCRIPTS))
    f.finish()
    if settings.max_cps <= 0:
        f.error("max_cps", f"must be more than 0, not {settings.max_cps:g}")
    if not 0 <= settings.min_duration < settings.max_duration:
        f.error("max_duration", f"must be more than min_duration ({settings.min_duration:g} s)")
    return settings




def _notify(f: Fields) -> NotifySettings:
    notify = NotifySettings(**read(f, NOTIFY))
    f.finish()
    if not WEB_URL.match(notify.podping_url):
        f.error("podping_url", f"must be an http(s) URL, not {redact_url(notify.podping_url)!r}")
    return notify
