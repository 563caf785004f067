"""Where everything goes: every storage key and public URL, and how each object is served.

The one module that names places in storage. Public keys sit under the show's folder
(`<show>/<episode>.mp3`, `<show>/feed.xml`, ...); private keys under `_private/` are never public
(the publishing manifest, embargoed copies in a folder named by a random token). The Content-Type
and Cache-Control an object is stored with are publishing policy and are chosen here too;
`storage/` only moves bytes.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from media_pipeline.model import Show, Workspace

OPML_KEY = "shows.opml"
# The longest episode or show slug: it names files such as `<slug>.transcript.json`, their
# temporary copies and content-addressed keys (`<slug>.<hash>.mp3`), and file systems allow 255
# bytes per name.
SLUG_MAX = 100
FEED_NAME = "feed.xml"

# -- keys ---------------------------------------------------------------------------------------

# Keys under this prefix are never public: manifests, staging, the local backend's metadata.
PRIVATE_PREFIX = "_private/"


def feed_key(show: str) -> str:
    return f"{show}/{FEED_NAME}"


def manifest_key(show: str) -> str:
    return f"{PRIVATE_PREFIX}{show}/manifest.json"


def notifications_key(show: str) -> str:
    """What the show's notifications owe and have sent (docs/notifications.md)."""
    return f"{PRIVATE_PREFIX}{show}/notifications.json"


# Reach (docs/stats.md): what `stats` counted, and its report; never public, like the manifest.
STATS_SUMMARY_KEY = f"{PRIVATE_PREFIX}stats/summary.json"
STATS_REPORT_KEY = f"{PRIVATE_PREFIX}stats/report.html"


def staging_prefix(show: str) -> str:
    return f"{PRIVATE_PREFIX}{show}/staged/"


def staging_key(show: str, token: str, public_key: str) -> str:
    """Where an embargoed file waits: under `_private/`, which is never public, in a folder named by
    a random token, so not even a guessed URL reaches it before release."""
    return f"{staging_prefix(show)}{token}/{public_key.rsplit('/', 1)[-1]}"


def episode_key(show: str, slug: str) -> str:
    """`show/slug`: how an episode is named in messages and results (not a stored object)."""
    return f"{show}/{slug}"


def media_key(show: str, slug: str, suffix: str, size: tuple[int, int] | None = None) -> str:
    """A rendition: `<show>/<episode>.mp3` (or .mp4, .m4a); a smaller video rendition names its
    picture, `<show>/<episode>.1280x720.mp4`, so the feed and the page can say its size."""
    return f"{show}/{slug}.{size[0]}x{size[1]}{suffix}" if size else f"{show}/{slug}{suffix}"


_RENDITION_SIZE = re.compile(r"\.(\d{2,5})x(\d{2,5})(?:\.[0-9a-f]+)?\.mp4$")


def rendition_size(key: str) -> tuple[int, int] | None:
    """The picture a smaller video rendition's key (`media_key` with a size, or its versioned
    form) names; None for any other key."""
    m = _RENDITION_SIZE.search(key)
    return (int(m.group(1)), int(m.group(2))) if m else None


VERSION_CHARS = 10
# Suffixes of two parts, kept whole when a key is versioned.
COMPOUND_SUFFIXES = (".chapters.json", ".transcript.html", ".transcript.json", ".descriptions.vtt",
                     ".described.mp4", ".described.mp3", ".text.html")


def versioned_key(key: str, sha256: str) -> str:
    """Where changed bytes of a public file go while its old bytes may still be live:
    `<show>/<episode>.<first 10 hex of sha256>.mp3` (a double suffix such as `.chapters.json` or
    `.transcript.html` stays whole). The same bytes always get the same key, so concurrent runs
    agree on it."""
    folder, _, name = key.rpartition("/")
    suffix = _suffix(name)
    stem = name[:len(name) - len(suffix)] if suffix else name
    return f"{folder}/{stem}.{sha256[:VERSION_CHARS]}{suffix}"


def unversioned_key(key: str) -> str:
    """The key `versioned_key` made `key` from (a key that is not versioned stays as it is)."""
    folder, _, name = key.rpartition("/")
    suffix = _suffix(name)
    stem = name[:len(name) - len(suffix)] if suffix else name
    base, _, version = stem.rpartition(".")
    if base and len(version) == VERSION_CHARS and all(c in "0123456789abcdef" for c in version):
        stem = base
    return f"{folder}/{stem}{suffix}" if folder else f"{stem}{suffix}"


def _suffix(name: str) -> str:
    return next((s for s in COMPOUND_SUFFIXES if name.endswith(s)), Path(name).suffix)


def poster_key(show: str, slug: str, suffix: str) -> str:
    """A video's 16:9 poster, `<show>/<episode>.poster.jpg` (and `.poster.webp`)."""
    return f"{show}/{slug}.poster{suffix}"


def episode_image_key(show: str, slug: str, suffix: str) -> str:
    return f"{show}/{slug}{suffix.lower()}"


def chapter_image_key(show: str, slug: str, number: int, suffix: str) -> str:
    """Chapter images are published beside the episode so the JSON chapters can name their URLs."""
    return f"{show}/{slug}.chapter{number}{suffix.lower()}"


def is_chapter_image_key(key: str) -> bool:
    """Whether `key` is a chapter image's (`chapter_image_key`), not the episode's own artwork."""
    return re.fullmatch(r"[^/]+/.+\.chapter\d+\.[a-z0-9]+", key) is not None


def chapters_name(slug: str) -> str:
    return f"{slug}{CHAPTERS_SUFFIX}"


def transcript_key(show: str, slug: str, language: str, show_language: str, suffix: str) -> str:
    """`<show>/<episode>.vtt` (or `.srt`, `.transcript.html`, `.transcript.json`) for the show's
    language, the key published before languages came; `<show>/<episode>.<language>.vtt` for another."""
    same = language.lower() == show_language.lower()
    return f"{show}/{slug}{'' if same else '.' + language.lower()}{suffix}"


DESCRIBED_SUFFIX = ".described"  # before the media suffix: `<episode>.described.mp4`
DESCRIPTIONS_SUFFIX = ".descriptions.vtt"


def described_key(show: str, slug: str, suffix: str) -> str:
    """The described version of an episode (WCAG 1.2.5): `<show>/<episode>.described.mp4` (or .mp3)."""
    return f"{show}/{slug}{DESCRIBED_SUFFIX}{suffix}"


def descriptions_key(show: str, slug: str, language: str, show_language: str) -> str:
    """The description file for `<track kind="descriptions">`: `<show>/<episode>.descriptions.vtt` in
    the show's language, `<show>/<episode>.<language>.descriptions.vtt` in another."""
    return transcript_key(show, slug, language, show_language, DESCRIPTIONS_SUFFIX)


def sidecar_key(show: str, name: str) -> str:
    """A file published beside the episode under the name it was written with (chapters, transcript)."""
    return f"{show}/{name}"


# The listener site: `index.html`, `<show>/index.html`, `<show>/<episode>/index.html`, the
# accessibility statement in Finnish, Swedish and English (each under a folder named in its own
# language), and `sitemap.xml`.
INDEX_KEY = "index.html"
SITEMAP_KEY = "sitemap.xml"
STATEMENT_KEYS = {"fi": "saavutettavuus/index.html", "sv": "tillganglighet/index.html",
                  "en": "accessibility/index.html"}


def show_page_key(show: str) -> str:
    return f"{show}/index.html"


def episode_page_key(show: str, slug: str) -> str:
    return f"{show}/{slug}/index.html"


def show_search_key(show: str) -> str:
    """The show's search index (words of its live episodes and their transcripts), kept with its pages."""
    return f"{show}/search.json"


def site_keys() -> tuple[str, ...]:
    """The workspace-wide pages: index, statements, sitemap."""
    return (INDEX_KEY, *STATEMENT_KEYS.values(), SITEMAP_KEY)


def artwork_key(show: str, suffix: str = ".jpg") -> str:
    return f"{show}/artwork{suffix.lower()}"


def episode_file(ws: Workspace, show: str, slug: str) -> Path:
    """The episode's file in the workspace: `episodes/<show>/<slug>.md`."""
    return ws.episodes_dir / show / f"{slug}.md"


def episode_ref(ws: Workspace, ref: str) -> tuple[str, str] | None:
    """The (show, slug) a user's reference names: `SHOW/SLUG`, `SHOW/SLUG.md`, or the path of a
    file in `episodes/<show>/` (whether or not it still exists); None for anything else."""
    path = Path(ref)
    if path.suffix == ".md" and path.resolve().parent.parent == ws.episodes_dir.resolve():
        return path.resolve().parent.name, path.stem
    show, _, slug = ref.removesuffix(".md").partition("/")
    if show and slug and "/" not in slug:
        return show, slug
    return None


# -- public URLs --------------------------------------------------------------------------------


def base_url(ws: Workspace, show: Show) -> str:
    return (show.public_url or ws.public_url).rstrip("/")


def public_url(ws: Workspace, show: Show, key: str) -> str:
    return f"{base_url(ws, show)}/{key}"


def feed_url(ws: Workspace, show: Show) -> str:
    return public_url(ws, show, feed_key(show.slug))


def show_page_url(ws: Workspace, show: Show) -> str:
    return public_url(ws, show, show_page_key(show.slug))


def episode_page_url(ws: Workspace, show: Show, slug: str) -> str:
    return public_url(ws, show, episode_page_key(show.slug, slug))


# -- how objects are served -------------------------------------------------------------------

# Content types listeners' apps and CDNs rely on (Apple checks enclosure types against them).
CONTENT_TYPES = {
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".mp4": "video/mp4",
    ".xml": "application/rss+xml; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".json": "application/json",
    ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
CHAPTERS_SUFFIX = ".chapters.json"
CHAPTERS_TYPE = "application/json+chapters"  # Podcasting 2.0 JSON chapters
MANIFEST_TYPE = "application/json"
MANIFEST_CACHE = "no-store"


def content_type_for(key: str) -> str:
    if key.endswith(CHAPTERS_SUFFIX):
        return CHAPTERS_TYPE
    if key == SITEMAP_KEY:  # sitemaps.org: plain XML, not a feed
        return "application/xml; charset=utf-8"
    suffix = Path(key).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


# Media and the files published beside it: a long but bounded lifetime, never `immutable` (see
# cache_control_for and docs/storage.md).
MEDIA_SUFFIXES = (".mp3", ".mp4", ".m4a", ".jpg", ".jpeg", ".png", ".webp", ".vtt", ".srt", CHAPTERS_SUFFIX,
                  ".transcript.html", ".transcript.json", ".text.html", ".txt")
FEED_SECONDS = 300
MEDIA_SECONDS = 86400


def cache_control_for(key: str, *, feed_seconds: int = FEED_SECONDS, media_seconds: int = MEDIA_SECONDS) -> str:
    """The Cache-Control header an object is stored with, chosen by its key.

    Changed media, chapters and transcripts go to a new key (`versioned_key`), but images keep
    theirs and a plain key can be reused after an episode is taken down, so `immutable` would let a
    CDN or an app keep old bytes forever: media get a day, after which caches revalidate with the
    ETag (a cheap 304 when nothing changed); see docs/storage.md. The feed is short-lived
    so a new episode reaches listeners within minutes. Private keys (staged media, the manifest)
    are never cached anywhere.
    """
    if key.startswith(PRIVATE_PREFIX):
        return "no-store"
    if key.lower().endswith(MEDIA_SUFFIXES):
        return f"public, max-age={media_seconds}"
    return f"public, max-age={feed_seconds}"


def cache_control(show: Show, key: str) -> str:
    """The policy above with the show's feed lifetime."""
    return cache_control_for(key, feed_seconds=show.feed_cache_seconds)


def feed_cache_control(show: Show) -> str:
    return cache_control(show, FEED_NAME)
