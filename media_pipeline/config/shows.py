"""Reading a show file, `feeds/<show>.toml`, into a `Show`: its channel keys and the `[owner]`,
`[funding]`, `[[persons]]`, `[audio]`, `[transcripts]` and `[notify]` tables."""

from __future__ import annotations

import re
from pathlib import Path

from media_pipeline.config.fields import MISSING, Fields, read_toml
from media_pipeline.errors import ConfigError, Problem, ValidationError
from media_pipeline.model import (
    AudioSettings,
    Category,
    NotifySettings,
    Owner,
    Person,
    Show,
    TranscriptSettings,
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
    owner_f = f.table("owner", required=True)
    owner = Owner(owner_f.str("name", "", required=True), owner_f.str("email", "", required=True))
    owner_f.finish()
    funding_f = f.table("funding")
    funding_url, funding_text = funding_f.url("url"), funding_f.str("text")
    funding_f.finish()
    show = Show(
        slug=slug,
        path=path,
        title=f.str("title", "", required=True),
        subtitle=f.str("subtitle"),
        description=f.str("description", "", required=True, multiline=True),
        language=f.str("language", "", required=True),
        author=f.str("author", "", required=True),
        owner=owner,
        categories=tuple(_category(f, c) for c in f.str_list("categories")),  # Apple's list: lint.py
        artwork=f.path_value("artwork", ws.root, required=True) or Path(),
        link=f.url("link", ""),
        explicit=f.bool("explicit", False),
        show_type=f.str("type", "episodic", choices=("episodic", "serial")),
        medium=f.str("medium", "podcast"),
        copyright=f.str("copyright"),
        license=f.str("license"),
        license_url=f.url("license_url"),
        funding_url=funding_url,
        funding_text=funding_text,
        persons=f.table_list("persons", person),
        keywords=f.str_list("keywords"),
        apple_podcasts_url=f.url("apple_podcasts_url"),
        spotify_url=f.url("spotify_url"),
        directory_urls=f.str_list("directory_urls", urls=True),
        public_url=f.url("public_url"),
        new_feed_url=f.url("new_feed_url"),
        podcast_guid=f.str("podcast_guid"),
        block=f.bool("block", False),
        complete=f.bool("complete", False),
        locked=f.bool("locked", True),
        transcripts_required=f.bool("transcripts_required", False),
        transcript_settings=_transcript_settings(f.table("transcripts")),
        id3_version=f.int("id3_version", 3),
        feed_cache_seconds=f.int("feed_cache_seconds", 300, minimum=0),
        audio=_audio(f.table("audio"), ws),
        notify=_notify(f.table("notify")),
    )
    f.finish()
    if show.id3_version not in (3, 4):
        problems.append(Problem(display_path(ws, path), "id3_version", f"must be 3 or 4, not {show.id3_version}"))
    if not collect and len(problems) > start:
        raise ValidationError(problems[start:])
    return show


def _category(f: Fields, text: str) -> Category:
    name, _, sub = (part.strip() for part in text.partition(">"))
    return Category(name, sub or None)


def person(f: Fields) -> Person | None:
    name = f.str("name", required=True)
    person = Person(name=name or "", role=f.str("role", "host").lower(), group=f.str("group", "cast").lower(),
                    href=f.url("href"), img=f.url("img"))
    return person if name else None


def _audio(f: Fields, ws: Workspace) -> AudioSettings:
    d = AudioSettings()
    audio = AudioSettings(
        target_lufs=f.float("target_lufs", d.target_lufs),
        true_peak_db=f.float("true_peak", d.true_peak_db),
        tolerance_lu=f.float("tolerance", d.tolerance_lu),
        channels=f.int("channels", d.channels),
        sample_rate=f.int("sample_rate", d.sample_rate),
        bitrate_kbps=f.int("bitrate", d.bitrate_kbps, minimum=32),
        formats=f.str_list("formats") or d.formats,
        trim_silence=f.bool("trim_silence", d.trim_silence),
        silence_threshold_db=f.float("silence_threshold", d.silence_threshold_db),
        silence_min_seconds=f.float("silence_min_duration", d.silence_min_seconds),
        highpass_hz=f.float("highpass"),
        intro=f.path_value("intro", ws.root),
        outro=f.path_value("outro", ws.root),
        video_audio_bitrate_kbps=f.int("video_audio_bitrate", d.video_audio_bitrate_kbps, minimum=32),
        max_loudness_range=f.float("max_loudness_range"),
    )
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


def _transcript_settings(f: Fields) -> TranscriptSettings:
    """`[transcripts]`: the speech recognition engine and model, and the captioning norms."""
    d = TranscriptSettings()
    settings = TranscriptSettings(
        engine=f.str("engine", d.engine, choices=("faster-whisper",)),
        model=f.str("model", d.model),
        allow_machine=f.bool("allow_machine", d.allow_machine),
        max_lines=f.int("max_lines", d.max_lines, minimum=1),
        max_line_chars=f.int("max_line_chars", d.max_line_chars, minimum=10),
        max_cps=f.float("max_cps", d.max_cps),
        min_duration=f.float("min_duration", d.min_duration),
        max_duration=f.float("max_duration", d.max_duration),
        allow_overlap=f.bool("allow_overlap", d.allow_overlap),
        speakers=f.bool("speakers", d.speakers),
        norms=f.str("norms", d.norms, choices=("warning", "error")),
    )
    f.finish()
    if settings.max_cps <= 0:
        f.error("max_cps", f"must be more than 0, not {settings.max_cps:g}")
    if not 0 <= settings.min_duration < settings.max_duration:
        f.error("max_duration", f"must be more than min_duration ({settings.min_duration:g} s)")
    return settings


_URL = re.compile(r"^https?://[^/\s]+")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _notify(f: Fields) -> NotifySettings:
    d = NotifySettings()
    hubs = f.str_list("hubs", urls=True)
    for hub in hubs:
        if not _URL.match(hub):
            f.error("hubs", f"must be http(s) URLs, not {redact_url(hub)!r}")
    notify = NotifySettings(
        hubs=tuple(h for h in hubs if _URL.match(h)),
        podping=_env_ref(f, "podping"),
        podping_url=f.url("podping_url", d.podping_url),
        slack=_env_ref(f, "slack"),
        teams=_env_ref(f, "teams"),
        mattermost=_env_ref(f, "mattermost"),
        webhook=_env_ref(f, "webhook"),
        attempts=f.int("attempts", d.attempts, minimum=1),
    )
    f.finish()
    if not _URL.match(notify.podping_url):
        f.error("podping_url", f"must be an http(s) URL, not {redact_url(notify.podping_url)!r}")
    return notify


def _env_ref(f: Fields, key: str) -> str | None:
    """`{ env = "NAME" }`: a secret (webhook URL, token) is never written in a show file, only the
    name of the environment variable that holds it; whether it is set is checked when sending."""
    value = f.raw(key)
    if value is MISSING:
        return None
    if not (isinstance(value, dict) and set(value) == {"env"} and isinstance(value["env"], str)
            and _ENV_NAME.match(value["env"])):
        f.error(key, 'must name an environment variable, like { env = "MEDIA_PIPELINE_SLACK" }; '
                     "the secret itself never goes in the file")
        return None
    return value["env"]

