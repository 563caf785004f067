"""The domain model: frozen dataclasses with no I/O, shared by every stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from media_pipeline.errors import ConfigError, Problem, ValidationError

EpisodeType = Literal["full", "trailer", "bonus"]
ShowType = Literal["episodic", "serial"]


@dataclass(frozen=True)
class Owner:
    name: str
    email: str


@dataclass(frozen=True)
class Category:
    """An Apple Podcasts category, optionally with one subcategory."""

    name: str
    subcategory: str | None = None

    def __str__(self) -> str:
        return f"{self.name} > {self.subcategory}" if self.subcategory else self.name


@dataclass(frozen=True)
class Person:
    """A Podcasting 2.0 person: role and group follow the podcast-taxonomy list."""

    name: str
    role: str = "host"
    group: str = "cast"
    href: str | None = None
    img: str | None = None


@dataclass(frozen=True)
class Chapter:
    """A chapter mark; times are seconds from the start of the published audio."""

    start: float
    title: str
    end: float | None = None
    url: str | None = None
    image: Path | None = None


@dataclass(frozen=True)
class Soundbite:
    """A moment that presents the episode (Podcasting 2.0 `podcast:soundbite`), in seconds of the
    published audio."""

    start: float
    duration: float
    title: str | None = None


@dataclass(frozen=True)
class Location:
    """What the episode is about, as a place (Podcasting 2.0 `podcast:location`)."""

    name: str
    geo: str | None = None  # an RFC 5870 geo URI, "geo:60.17,24.94"
    osm: str | None = None  # an OpenStreetMap type and id, "R34914"


@dataclass(frozen=True)
class AlternateEnclosure:
    """A file of the episode kept elsewhere (another host, a CDN), offered as a remote
    `podcast:alternateEnclosure` beside the renditions publishing makes."""

    url: str
    mime_type: str
    length: int | None = None
    title: str | None = None
    bitrate: float | None = None  # bits per second


@dataclass(frozen=True)
class AudioSettings:
    """How a show's audio is normalised and encoded (EBU R128 / ITU-R BS.1770-4 targets)."""

    target_lufs: float = -16.0
    true_peak_db: float = -1.0
    tolerance_lu: float = 0.5
    channels: int = 2
    sample_rate: int = 44100
    bitrate_kbps: int = 128
    formats: tuple[str, ...] = ("mp3",)
    trim_silence: bool = False
    silence_threshold_db: float = -50.0
    silence_min_seconds: float = 0.5
    highpass_hz: float | None = None
    intro: Path | None = None
    outro: Path | None = None
    video_audio_bitrate_kbps: int = 128
    max_loudness_range: float | None = None  # LU; None: no levelling, the speech keeps its own range


@dataclass(frozen=True)
class VideoSettings:
    """A show's `[video]` table: the smaller renditions made of a video episode beside the
    source-quality MP4, each named by the short side of its picture (720 for 1280x720 and for a
    portrait 720x1280); none is larger than the source."""

    renditions: tuple[int, ...] = (720, 360)


@dataclass(frozen=True)
class TranscriptSettings:
    """A show's `[transcripts]` table: speech recognition and the captioning norms `check` applies.

    The norm defaults follow common subtitling practice (BBC Subtitle Guidelines, Netflix Timed
    Text Style Guide for Finnish and English, EBU-TT-D): two lines of at most 42 characters, at
    most 17 characters a second, each cue on screen from 1 to 7 seconds.
    """

    engine: str = "faster-whisper"
    model: str = "small"  # a model name the engine knows, or a path to a model folder
    allow_machine: bool = False  # publish draft (machine) transcripts, labelled as such
    max_lines: int = 2
    max_line_chars: int = 42
    max_cps: float = 17.0
    min_duration: float = 1.0
    max_duration: float = 7.0
    allow_overlap: bool = False
    speakers: bool = True  # once any cue names its speaker, every cue must
    speaker_label: str = "name"  # how captions show a change of speaker: "name" ("Aino: ") or "dash"
    norms: str = "warning"  # severity of a norm broken: "warning" or "error"
    undescribed_slides: str = "warning"  # severity of a slide change with no description nearby


@dataclass(frozen=True)
class TranscriptFile:
    """One transcript of an episode: a producer's SRT/WebVTT file or a machine draft."""

    path: Path
    language: str | None = None  # None: the show's language
    draft: bool = False


@dataclass(frozen=True)
class DescriptionFile:
    """One audio description file of an episode (WebVTT, each cue a description of what is shown
    and not said, WCAG 1.2.5), and where the producer's recorded clips for its cues are."""

    path: Path
    language: str | None = None  # None: the show's language
    clips: Path | None = None  # a folder of recordings named by cue identifier; other cues are synthesised


@dataclass(frozen=True)
class Description:
    """One description to be spoken in the described version: its time in the programme, its words,
    and the producer's recording of them when there is one."""

    start: float  # seconds in the recording
    end: float
    text: str
    clip: Path | None = None


@dataclass(frozen=True)
class NotifySettings:
    """Who hears of a show's changes (docs/notifications.md). Hubs are public URLs; every secret
    (a webhook URL, the podping token) is named here only by the environment variable holding it."""

    hubs: tuple[str, ...] = ()  # WebSub hubs, advertised in the feed and pinged when it changes
    podping: str | None = None  # environment variable with the podping.cloud token
    podping_url: str = "https://podping.cloud/"
    slack: str | None = None  # environment variables with incoming-webhook URLs
    teams: str | None = None
    mattermost: str | None = None
    webhook: str | None = None  # a generic JSON webhook
    attempts: int = 5  # runs that try one notification before it is given up


@dataclass(frozen=True)
class Show:
    """A podcast channel, loaded from `feeds/<slug>.toml`."""

    slug: str
    path: Path
    title: str
    description: str
    language: str
    author: str
    owner: Owner
    categories: tuple[Category, ...]
    artwork: Path
    link: str = ""  # the show's own website; empty: the feed links to the show's page on the listener site
    explicit: bool = False
    show_type: ShowType = "episodic"
    medium: str = "podcast"
    subtitle: str | None = None
    copyright: str | None = None
    license: str | None = None
    license_url: str | None = None
    funding_url: str | None = None
    funding_text: str | None = None
    persons: tuple[Person, ...] = ()
    keywords: tuple[str, ...] = ()
    apple_podcasts_url: str | None = None  # the show in podcast directories, for the site's subscribe links
    spotify_url: str | None = None
    directory_urls: tuple[str, ...] = ()
    public_url: str | None = None
    new_feed_url: str | None = None
    podcast_guid: str | None = None
    block: bool = False
    complete: bool = False
    locked: bool = True
    transcripts_required: bool = False
    transcript_settings: TranscriptSettings = field(default_factory=TranscriptSettings)
    id3_version: int = 3
    feed_cache_seconds: int = 300
    audio: AudioSettings = field(default_factory=AudioSettings)
    video: VideoSettings = field(default_factory=VideoSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)


@dataclass(frozen=True)
class Episode:
    """One episode, loaded from `episodes/<show>/<slug>.md` (YAML front matter + Markdown notes)."""

    show: str
    slug: str
    path: Path
    title: str
    publish_at: datetime  # always time-zone aware
    source: Path
    notes: str = ""  # the Markdown body
    summary: str | None = None
    number: int | None = None
    season: int | None = None
    episode_type: EpisodeType = "full"
    explicit: bool | None = None  # None: the show's setting
    persons: tuple[Person, ...] = ()
    chapters: tuple[Chapter, ...] = ()
    transcript: Path | None = None  # the first of `transcripts`, kept for callers that take one
    transcripts: tuple[TranscriptFile, ...] = ()
    artwork: Path | None = None
    poster: Path | None = None  # a video's own 16:9 poster image; else a frame of the video
    guid: str | None = None
    keywords: tuple[str, ...] = ()
    accept_damaged_source: bool = False  # publish a recording that decodes only in part, knowingly
    descriptions: tuple[DescriptionFile, ...] = ()  # audio description, one file per language
    slides_described_aloud: bool = False  # the speaker says what the slides show (no description needed)
    soundbites: tuple[Soundbite, ...] = ()
    location: Location | None = None
    alternates: tuple[AlternateEnclosure, ...] = ()  # remote ones; renditions come from publishing
    text_transcripts: tuple[TranscriptFile, ...] = ()  # untimed (HTML, plain text), published as they are
    order: int | None = None  # among episodes of one publish_at, the higher is listed as the newer

    @property
    def key(self) -> str:
        """`show/slug`, how logs and errors name an episode."""
        return f"{self.show}/{self.slug}"

    @property
    def listed_at(self) -> tuple[datetime, int]:
        """Where the episode is listed: by publish time, and among one time's episodes by `order`
        (then the caller's tie-break, the guid)."""
        return (self.publish_at, self.order or 0)


@dataclass(frozen=True)
class Stream:
    index: int
    kind: Literal["audio", "video", "subtitle", "data", "attachment"]
    codec: str
    sample_rate: int | None = None
    channels: int | None = None
    width: int | None = None
    height: int | None = None
    attached_pic: bool = False


@dataclass(frozen=True)
class MediaInfo:
    """What probe found in a media file."""

    path: Path
    container: str
    duration: float
    streams: tuple[Stream, ...]

    @property
    def audio(self) -> Stream | None:
        return next((s for s in self.streams if s.kind == "audio"), None)

    @property
    def video(self) -> Stream | None:
        return next((s for s in self.streams if s.kind == "video" and not s.attached_pic), None)

    @property
    def has_video(self) -> bool:
        return self.video is not None


@dataclass(frozen=True)
class Loudness:
    """An EBU R128 measurement: integrated (LUFS), range (LU), true peak (dBTP)."""

    integrated: float
    lra: float
    true_peak: float
    threshold: float | None = None


@dataclass(frozen=True)
class Rendition:
    """One processed output file of an episode, ready to tag and store."""

    path: Path
    mime_type: str
    role: Literal["audio", "video"]
    duration: float
    loudness: Loudness | None = None
    # a smaller video rendition's picture (width, height), which its storage key names; None for
    # the source-quality MP4 and the audio
    size: tuple[int, int] | None = None

    @property
    def suffix(self) -> str:
        return self.path.suffix


@dataclass(frozen=True)
class SiteSettings:
    """The listener site's workspace-wide facts: its title and the accessibility statement
    (law 306/2019 asks for the compliance status, what is not accessible, how it was assessed and
    when, and a way to give feedback)."""

    title: str = "Podcasts"
    language: str = "fi"
    organisation: str = ""
    contact_email: str = ""
    contact_url: str | None = None
    assessed: str = ""  # ISO date of the assessment, YYYY-MM-DD
    assessment: str = "self"  # self (the organisation's own) or third-party
    compliance: Literal["full", "partial", "none"] = "partial"
    shortcomings: tuple[str, ...] = ()  # in the site's language
    # the same list written in another statement language: (language, shortcomings)
    translated_shortcomings: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def shortcomings_in(self, language: str) -> tuple[tuple[str, ...], str]:
        """The shortcomings for the statement in `language`, and the language they are written in
        (the site's when no translation is given, so the page marks them with `lang`)."""
        translated = dict(self.translated_shortcomings)
        if language in translated:
            return translated[language], language
        return self.shortcomings, self.language


@dataclass(frozen=True)
class Workspace:
    """A producer's folder: `media-pipeline.toml`, `feeds/`, `episodes/`."""

    root: Path
    storage_url: str = "file://./public"
    public_url: str = "http://127.0.0.1:8000"
    timezone: str = "Europe/Helsinki"
    cache_dir: Path | None = None
    site: SiteSettings = field(default_factory=SiteSettings)

    @property
    def feeds_dir(self) -> Path:
        return self.root / "feeds"

    @property
    def episodes_dir(self) -> Path:
        return self.root / "episodes"

    @property
    def build_dir(self) -> Path:
        return self.cache_dir or self.root / ".media-pipeline" / "cache"


@dataclass(frozen=True)
class StoredFile:
    """A file as published: where listeners fetch it and what they get."""

    key: str  # storage key below the storage prefix, e.g. "ihmiskeskeisyys/001.mp3"
    url: str  # public URL
    length: int  # bytes, exact (Apple: enclosure length)
    mime_type: str
    sha256: str = ""
    size: tuple[int, int] | None = None  # a smaller video rendition's picture, from its key


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed: the episode's metadata and its published files."""

    episode: Episode
    guid: str
    enclosure: StoredFile  # the primary enclosure: video/mp4 for webinars, audio/mpeg otherwise
    duration: float  # seconds
    alternates: tuple[StoredFile, ...] = ()  # every rendition, for podcast:alternateEnclosure
    chapters: StoredFile | None = None  # JSON chapters (application/json+chapters)
    transcripts: tuple[StoredFile, ...] = ()  # text/vtt first, then others
    image_url: str | None = None  # episode artwork
    poster_url: str | None = None  # a video's 16:9 poster (JPEG)
    page_url: str | None = None  # the episode's page on the listener site (the item's <link>)
    chapter_images: tuple[str | None, ...] = ()  # the URL of each chapter's image, in chapter order
    described: tuple[StoredFile, ...] = ()  # the described version (video, then audio), WCAG 1.2.5
    descriptions: tuple[StoredFile, ...] = ()  # the description files as WebVTT, the show's language first


@dataclass(frozen=True)
class Catalog:
    """Every show and its episodes, validated.

    An episode file with an error of its own is left out of `episodes` and listed in `refused`
    instead, by `show/slug`, with the loader's problems for it (each naming the file, the key and
    the reason): it blocks only itself, and a command that selects it can say why.
    """

    shows: dict[str, Show]
    episodes: dict[str, tuple[Episode, ...]]
    refused: dict[str, tuple[Problem, ...]] = field(default_factory=dict)

    def find_episode(self, ref: str) -> Episode:
        """The episode `ref` names (`show/slug` or its file); ValidationError with the loader's
        problems when its file was refused, ConfigError when there is no such episode."""
        for episodes in self.episodes.values():
            for episode in episodes:
                if ref in (episode.key, str(episode.path)) or Path(ref).resolve() == episode.path.resolve():
                    return episode
        named = Path(ref)
        for key, problems in self.refused.items():  # its file is episodes/<show>/<slug>.md
            if ref == key or (named.suffix == ".md" and f"{named.parent.name}/{named.stem}" == key):
                raise ValidationError(list(problems))
        raise ConfigError("no such episode; name it as SHOW/EPISODE or by its file path", path=ref)
