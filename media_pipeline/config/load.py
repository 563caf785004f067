"""Loading and validating the workspace, show and episode files into the model.

Every problem in a file is collected with its key and reason, and reported together before any
work starts, so a producer fixes a file in one go rather than one error per run.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from media_pipeline.errors import ConfigError, Problem, ValidationError
from media_pipeline.model import (
    AudioSettings,
    Catalog,
    Category,
    Chapter,
    Episode,
    NotifySettings,
    Owner,
    Person,
    Show,
    SiteSettings,
    TranscriptFile,
    TranscriptSettings,
    Workspace,
)
from media_pipeline.util.fsutil import atomic_write, display_path
from media_pipeline.util.redact import url_credentials

WORKSPACE_FILE = "media-pipeline.toml"
ENV_STORAGE = "MEDIA_PIPELINE_STORAGE"
ENV_PUBLIC_URL = "MEDIA_PIPELINE_PUBLIC_URL"
ENV_TIMEZONE = "MEDIA_PIPELINE_TIMEZONE"

FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_MISSING = object()


class FrontMatterLoader(yaml.SafeLoader):
    """YAML without implicit timestamps: PyYAML turns `2026-02-30 10:00:00` into a ValueError
    deep inside the parser (not a YAMLError), and reads offsets inconsistently; dates stay text
    here and `parse_time` reads them, so a bad date is a problem report, never a crash."""


FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

if hasattr(yaml, "CSafeLoader"):
    class _FastFrontMatterLoader(yaml.CSafeLoader):
        """The same rules parsed by libyaml, several times faster: a cron run reads every episode file."""

    _FastFrontMatterLoader.yaml_implicit_resolvers = FrontMatterLoader.yaml_implicit_resolvers
else:  # PyYAML built without libyaml
    _FastFrontMatterLoader = FrontMatterLoader  # type: ignore[misc]


def load_front_matter(text: str):
    """The front matter's data; a YAMLError with the pure-Python parser's message (it quotes the line)."""
    try:
        return yaml.load(text, Loader=_FastFrontMatterLoader)
    except yaml.YAMLError:
        return yaml.load(text, Loader=FrontMatterLoader)


TRANSCRIPT_SUFFIXES = (".vtt", ".srt")

_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why a text value cannot be published as written, or None.

    A YAML escape like "\\ud83c" yields half of a UTF-16 pair, which no UTF-8 file, tag or feed
    can hold; a line break in a one-line field (a title) breaks the ID3 tag and app listings.
    """
    found = _SURROGATE.search(value)
    if found:
        return (f"holds a lone surrogate escape (\\u{ord(found.group()):04x}), half of a UTF-16 pair and not a "
                "character; write the character itself, or its 8-digit escape (e.g. \\U0001F399 for 🎙)")
    if not multiline and ("\n" in value.strip() or "\r" in value.strip()):
        return "must be one line: it holds a line break"
    return None


class _Fields:
    """Reads typed keys from one mapping, recording problems instead of raising.

    `finish()` reports the keys nobody asked for: an unknown key is almost always a typo, and
    silently ignoring it would publish something other than what the producer wrote.
    """

    def __init__(self, data: Any, path: Path | str, problems: list[Problem], prefix: str = ""):
        self.path = str(path)
        self.problems = problems
        self.prefix = prefix
        if not isinstance(data, dict):
            self.error(None, f"must be a table of keys, not {_type_name(data)}")
            data = {}
        self.data = data
        self.seen: set[str] = set()

    def name(self, key: str | None) -> str | None:
        if key is None:
            return self.prefix.rstrip(".") or None
        return f"{self.prefix}{key}"

    def error(self, key: str | None, reason: str) -> None:
        self.problems.append(Problem(self.path, self.name(key), reason))

    def raw(self, key: str, required: bool = False) -> Any:
        self.seen.add(key)
        value = self.data.get(key, _MISSING)
        if value is None:
            value = _MISSING
        if value is _MISSING and required:
            self.error(key, "is required")
        return value

    def str(self, key: str, default: Any = None, required: bool = False, choices: tuple[str, ...] = (),
            multiline: bool = False) -> Any:
        value = self.raw(key, required)
        if value is _MISSING:
            return default
        if not isinstance(value, str):
            self.error(key, f"must be text, not {_type_name(value)}")
            return default
        if reason := text_problem(value, multiline=multiline):
            self.error(key, reason)
            return default
        value = value.strip()
        if required and not value:
            self.error(key, "must not be empty")
            return default
        if choices and value not in choices:
            self.error(key, f"must be one of {', '.join(choices)}, not {value!r}")
            return default
        return value

    def int(self, key: str, default: Any = None, required: bool = False, minimum: int | None = None) -> Any:
        value = self.raw(key, required)
        if value is _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(key, f"must be a whole number, not {_type_name(value)}")
            return default
        if minimum is not None and value < minimum:
            self.error(key, f"must be at least {minimum}, not {value}")
            return default
        return value

    def float(self, key: str, default: Any = None, required: bool = False) -> Any:
        value = self.raw(key, required)
        if value is _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(key, f"must be a number, not {_type_name(value)}")
            return default
        return float(value)

    def bool(self, key: str, default: Any = None, required: bool = False) -> Any:
        value = self.raw(key, required)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self.error(key, f"must be true or false, not {_type_name(value)}")
            return default
        return value

    def str_list(self, key: str) -> tuple[str, ...]:
        value = self.raw(key)
        if value is _MISSING:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(key, "must be a list of text")
            return ()
        for i, item in enumerate(value):
            if reason := text_problem(item):
                self.error(f"{key}[{i}]", reason)
                return ()
        return tuple(v.strip() for v in value)

    def table_list(self, key: str, read: Callable[["_Fields"], Any]) -> tuple[Any, ...]:
        value = self.raw(key)
        if value is _MISSING:
            return ()
        if not isinstance(value, list):
            self.error(key, f"must be a list, not {_type_name(value)}")
            return ()
        items = []
        for i, item in enumerate(value):
            fields = _Fields(item, self.path, self.problems, f"{self.name(key)}[{i}].")
            result = read(fields)
            fields.finish()
            if result is not None:
                items.append(result)
        return tuple(items)

    def table(self, key: str, required: bool = False) -> "_Fields":
        value = self.raw(key, required)
        return _Fields({} if value is _MISSING else value, self.path, self.problems, f"{self.name(key)}.")

    def path_value(self, key: str, base: Path, required: bool = False, must_exist: bool = True) -> Path | None:
        value = self.str(key, required=required)
        if not value:
            return None
        if "://" in value:
            self.error(key, "must be a file path in the workspace; URLs are not supported")
            return None
        path = (base / value).resolve() if not Path(value).is_absolute() else Path(value)
        if must_exist and not path.exists():
            self.error(key, f"file not found: {value}")
        return path

    def finish(self) -> None:
        for key in self.data:
            if key not in self.seen:
                self.error(str(key), "unknown key")


def _type_name(value: Any) -> str:
    return {str: "text", int: "a number", float: "a number", bool: "true/false", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)


# -- workspace ---------------------------------------------------------------------------------


def find_root(start: Path | None = None) -> Path:
    """The nearest folder at or above `start` that holds `media-pipeline.toml`."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / WORKSPACE_FILE).is_file():
            return folder
    raise ConfigError(f"no {WORKSPACE_FILE} here or in any parent folder; run inside a workspace or pass --root",
                      path=str(here))


def load_workspace(root: Path | None = None, environ: dict[str, str] | None = None) -> Workspace:
    """Read `media-pipeline.toml`; environment variables override storage, public URL and zone."""
    environ = os.environ if environ is None else environ
    root = (root.resolve() if root else find_root())
    path = root / WORKSPACE_FILE
    problems: list[Problem] = []
    data = _read_toml(path, problems) if path.exists() else {}
    f = _Fields(data, path, problems)
    # Read every key before applying overrides: a key shadowed by the environment is still known,
    # and a wrong type in the file is still worth reporting.
    storage = f.str("storage", "file://./public")
    public_url = f.str("public_url", "http://127.0.0.1:8000")
    timezone = f.str("timezone", "Europe/Helsinki")
    cache = f.str("cache_dir")
    site = _site(f, path, problems)
    storage_from = ENV_STORAGE if environ.get(ENV_STORAGE) else str(path)
    storage = environ.get(ENV_STORAGE) or storage
    public_url = environ.get(ENV_PUBLIC_URL) or public_url
    timezone = environ.get(ENV_TIMEZONE) or timezone
    f.finish()
    if found := url_credentials(storage or ""):
        # The value itself is never repeated: it is the secret.
        problems.append(Problem(storage_from, "storage", f"holds a credential ({', '.join(found)}); credentials never "
                                                         "go in the storage URL: give them through AWS_PROFILE or "
                                                         "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and remove "
                                                         "them from the URL"))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(Problem(str(path), "timezone", f"unknown time zone {timezone!r}"))
    if problems:
        raise ValidationError(problems)
    return Workspace(root=root, storage_url=storage, public_url=public_url.rstrip("/"), timezone=timezone,
                     cache_dir=(root / cache) if cache else None, site=site)


def _site(f: "_Fields", path: Path, problems: list[Problem]) -> SiteSettings:
    """The listener site's keys of `media-pipeline.toml` (see docs/formats.md)."""
    site = SiteSettings(
        title=f.str("site_title", "Podcasts"),
        language=f.str("site_language", "fi", choices=("fi", "sv", "en")),
        organisation=f.str("accessibility_organisation", ""),
        contact_email=f.str("accessibility_email", ""),
        contact_url=f.str("accessibility_feedback_url"),
        assessed=f.str("accessibility_assessed", ""),
        assessment=f.str("accessibility_assessment", "self", choices=("self", "third-party")),
        compliance=f.str("accessibility_compliance", "partial", choices=("full", "partial", "none")),
        shortcomings=f.str_list("accessibility_shortcomings"),
    )
    if site.assessed:
        try:
            dt.date.fromisoformat(site.assessed)
        except ValueError:
            problems.append(Problem(str(path), "accessibility_assessed", f"must be a date YYYY-MM-DD, not {site.assessed!r}"))
    return site


def _read_toml(path: Path, problems: list[Problem]) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        problems.append(Problem(str(path), None, f"not valid TOML: {exc}"))
    except UnicodeDecodeError as exc:
        problems.append(Problem(str(path), None, f"is not UTF-8 text (byte {exc.start}); save it as UTF-8"))
    except OSError as exc:
        problems.append(Problem(str(path), None, f"cannot read: {exc.strerror}"))
    return {}


# -- shows -------------------------------------------------------------------------------------


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
    data = _read_toml(path, unreadable)
    if unreadable:  # nothing below could be read: report that alone, not every key as missing
        raise ConfigError(unreadable[0].reason, path=display_path(ws, path))
    f = _Fields(data, display_path(ws, path), problems)
    owner_f = f.table("owner", required=True)
    owner = Owner(owner_f.str("name", "", required=True), owner_f.str("email", "", required=True))
    owner_f.finish()
    funding_f = f.table("funding")
    funding_url, funding_text = funding_f.str("url"), funding_f.str("text")
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
        link=f.str("link", ""),
        explicit=f.bool("explicit", False),
        show_type=f.str("type", "episodic", choices=("episodic", "serial")),
        medium=f.str("medium", "podcast"),
        copyright=f.str("copyright"),
        license=f.str("license"),
        license_url=f.str("license_url"),
        funding_url=funding_url,
        funding_text=funding_text,
        persons=f.table_list("persons", _person),
        keywords=f.str_list("keywords"),
        apple_podcasts_url=f.str("apple_podcasts_url"),
        spotify_url=f.str("spotify_url"),
        directory_urls=f.str_list("directory_urls"),
        public_url=f.str("public_url"),
        new_feed_url=f.str("new_feed_url"),
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


def _category(f: _Fields, text: str) -> Category:
    name, _, sub = (part.strip() for part in text.partition(">"))
    return Category(name, sub or None)


def _person(f: _Fields) -> Person | None:
    name = f.str("name", required=True)
    person = Person(name=name or "", role=f.str("role", "host").lower(), group=f.str("group", "cast").lower(),
                    href=f.str("href"), img=f.str("img"))
    return person if name else None


def _audio(f: _Fields, ws: Workspace) -> AudioSettings:
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


def _transcript_settings(f: _Fields) -> TranscriptSettings:
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


def _notify(f: _Fields) -> NotifySettings:
    d = NotifySettings()
    hubs = f.str_list("hubs")
    for hub in hubs:
        if not _URL.match(hub):
            f.error("hubs", f"must be http(s) URLs, not {hub!r}")
    notify = NotifySettings(
        hubs=tuple(h for h in hubs if _URL.match(h)),
        podping=_env_ref(f, "podping"),
        podping_url=f.str("podping_url", d.podping_url),
        slack=_env_ref(f, "slack"),
        teams=_env_ref(f, "teams"),
        mattermost=_env_ref(f, "mattermost"),
        webhook=_env_ref(f, "webhook"),
        attempts=f.int("attempts", d.attempts, minimum=1),
    )
    f.finish()
    if not _URL.match(notify.podping_url):
        f.error("podping_url", f"must be an http(s) URL, not {notify.podping_url!r}")
    return notify


def _env_ref(f: _Fields, key: str) -> str | None:
    """`{ env = "NAME" }`: a secret (webhook URL, token) is never written in a show file, only the
    name of the environment variable that holds it; whether it is set is checked when sending."""
    value = f.raw(key)
    if value is _MISSING:
        return None
    if not (isinstance(value, dict) and set(value) == {"env"} and isinstance(value["env"], str)
            and _ENV_NAME.match(value["env"])):
        f.error(key, 'must name an environment variable, like { env = "MEDIA_PIPELINE_SLACK" }; '
                     "the secret itself never goes in the file")
        return None
    return value["env"]


# -- episodes ----------------------------------------------------------------------------------


def episode_paths(ws: Workspace, show: str) -> list[Path]:
    return sorted((ws.episodes_dir / show).glob("*.md"))


def split_front_matter(text: str) -> tuple[str, str] | None:
    """(yaml, body) of a Markdown file with `---` front matter, or None when it has none."""
    match = FRONT_MATTER.match(text)
    if not match:
        return None
    return match.group(1), text[match.end():]


_GUID_SET = re.compile(r"^guid:[ \t]*[\"']?([^\"'\s#]+)", re.M)
_GUID_EMPTY = re.compile(r"^#?[ \t]*guid:[^\r\n]*$", re.M)  # `guid:`, `guid: ~` or the scaffold's `# guid: ...`


def record_guid(path: Path, guid: str) -> str:
    """Write `guid: GUID` into an episode file's front matter at first publish and return the guid
    the file holds: an existing one wins (a guid never changes once assigned).

    Every other byte of the file is kept, line endings included; an empty `guid:` line or the
    commented `# guid:` line that `new` writes is filled in, else the line is added at the end of
    the front matter. Written beside the file, then renamed.
    """
    text = path.read_bytes().decode("utf-8")
    match = FRONT_MATTER.match(text)
    if not match:
        raise ConfigError("has no YAML front matter to record the guid in", path=str(path))
    front = match.group(1)
    existing = _GUID_SET.search(front)
    if existing and existing.group(1) not in ("~", "null"):
        return existing.group(1)
    line = f"guid: {guid}"
    empty = _GUID_EMPTY.search(front)
    if empty:
        front = front[:empty.start()] + line + front[empty.end():]
    else:
        front = front + ("\r\n" if "\r\n" in front else "\n") + line
    start, end = match.span(1)
    atomic_write(path, (text[:start] + front + text[end:]).encode("utf-8"))
    return guid


def load_episode(ws: Workspace, show: str, path: Path, problems: list[Problem] | None = None) -> Episode | None:
    """Load one episode file. With `problems` given, findings are appended and None may return."""
    collect = problems is not None
    problems = [] if problems is None else problems
    start = len(problems)
    rel = display_path(ws, path)
    episode = _read_episode(ws, show, path, rel, problems)
    if len(problems) > start:
        if not collect:
            raise ValidationError(problems[start:])
        if any(p.severity == "error" for p in problems[start:]):
            return None
    return episode


def _read_episode(ws: Workspace, show: str, path: Path, rel: str, problems: list[Problem]) -> Episode | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(rel, None, f"cannot read as UTF-8 text: {exc}"))
        return None
    parts = split_front_matter(text)
    if parts is None:
        problems.append(Problem(rel, None, "has no YAML front matter (a block between --- lines at the top)"))
        return None
    try:
        data = load_front_matter(parts[0]) or {}
    except yaml.YAMLError as exc:
        problems.append(Problem(rel, None, f"front matter is not valid YAML: {exc}"))
        return None
    if not isinstance(data, dict):
        problems.append(Problem(rel, None, f"front matter must be keys and values, not {_type_name(data)}"))
        return None
    f = _Fields(data, rel, problems)
    zone = ZoneInfo(ws.timezone)
    title = f.str("title", "", required=True)
    publish_at = parse_time(f, "publish_at", zone, required=True)
    source = f.path_value("source", ws.root, required=True)
    episode = Episode(
        show=show,
        slug=path.stem,
        path=path,
        title=title,
        publish_at=publish_at or dt.datetime.min.replace(tzinfo=dt.timezone.utc),
        source=source or Path(),
        notes=parts[1].strip(),
        summary=f.str("summary", multiline=True),
        number=f.int("number", minimum=0),
        season=f.int("season", minimum=0),
        episode_type=f.str("episode_type", "full", choices=("full", "trailer", "bonus")),
        explicit=f.bool("explicit"),
        persons=f.table_list("persons", _person),
        chapters=f.table_list("chapters", lambda c: _chapter(c, ws)),
        transcripts=_transcripts(f, ws),
        artwork=f.path_value("artwork", ws.root),
        guid=f.str("guid"),
        keywords=f.str_list("keywords"),
        accept_damaged_source=f.bool("accept_damaged_source", False),
    )
    f.finish()
    episode = replace(episode, transcript=episode.transcripts[0].path if episode.transcripts else None)
    languages = [t.language for t in episode.transcripts]
    for i, t in enumerate(episode.transcripts):
        where = "transcript" if f.data.get("transcript") and isinstance(f.data["transcript"], str) \
            else f"transcript[{i}]"
        if t.path.suffix.lower() not in TRANSCRIPT_SUFFIXES:
            f.error(where, "must be a WebVTT (.vtt) or SubRip (.srt) file")
        if t.language in languages[:i]:
            f.error(where, f"a second transcript in {t.language or 'the show language'}; "
                           "give each its own language")
    starts = [c.start for c in episode.chapters]
    if starts != sorted(starts):
        f.error("chapters", "must be in order of start time")
    if starts and starts[0] != 0:
        f.error("chapters", "the first chapter must start at 00:00:00 (players and the JSON chapters spec expect it)")
    return episode


def _transcripts(f: _Fields, ws: Workspace) -> tuple[TranscriptFile, ...]:
    """`transcript`: one file (in the show's language), or a table or list of tables with
    `file`, `language` and `draft` (a machine transcript that `transcribe` wrote)."""
    value = f.raw("transcript")
    if value is _MISSING or isinstance(value, str):
        path = f.path_value("transcript", ws.root)
        return (TranscriptFile(path),) if path else ()
    if isinstance(value, dict):
        one = _Fields(value, f.path, f.problems, "transcript.")
        item = _transcript_file(one, ws)
        one.finish()
        return (item,) if item else ()
    return f.table_list("transcript", lambda t: _transcript_file(t, ws))


def _transcript_file(f: _Fields, ws: Workspace) -> TranscriptFile | None:
    path = f.path_value("file", ws.root, required=True)
    language = f.str("language")
    if language is not None and not re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*", language):
        f.error("language", f"must be a language code like fi, sv or en-GB, not {language!r}")
    draft = f.bool("draft", False)
    return TranscriptFile(path, language, draft) if path else None


def _chapter(f: _Fields, ws: Workspace) -> Chapter | None:
    start = parse_duration(f, "start", required=True)
    end = parse_duration(f, "end")
    title = f.str("title", required=True)
    chapter = Chapter(start=start if start is not None else 0.0, title=title or "", end=end,
                      url=f.str("url"), image=f.path_value("image", ws.root))
    if start is None or not title:
        return None
    if end is not None and end <= start:
        f.error("end", "must be after start")
    return chapter


_DURATION = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")


def parse_duration(f: _Fields, key: str, required: bool = False) -> float | None:
    """Seconds from `HH:MM:SS(.mmm)`, `MM:SS` or a number of seconds."""
    value = f.raw(key, required)
    if value is _MISSING:
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


def parse_time(f: _Fields, key: str, zone: ZoneInfo, required: bool = False) -> dt.datetime | None:
    """An aware datetime; a time written without an offset is read in the workspace time zone."""
    value = f.raw(key, required)
    if value is _MISSING:
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
        f.error(key, f"must be a date and time like 2026-03-05T09:00:00+02:00, not {_type_name(value)}")
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


# -- whole-workspace loading -------------------------------------------------------------------


def load_catalog(ws: Workspace, shows: list[str] | None = None) -> tuple[Catalog, list[Problem]]:
    """Load shows and episodes, returning every problem found instead of stopping at the first."""
    problems: list[Problem] = []
    loaded_shows: dict[str, Show] = {}
    loaded_episodes: dict[str, tuple[Episode, ...]] = {}
    for slug in shows or show_slugs(ws):
        try:
            show = load_show(ws, slug, problems)
        except ConfigError as exc:
            problems.append(Problem(exc.path or "", exc.field, exc.reason))
            continue
        loaded_shows[slug] = show
        episodes = [load_episode(ws, slug, p, problems) for p in episode_paths(ws, slug)]
        loaded_episodes[slug] = tuple(sorted((e for e in episodes if e), key=lambda e: e.publish_at))
    return Catalog(loaded_shows, loaded_episodes), problems
