"""The publishing manifest: what each show has in storage, and the one way to change it with its feed.

One JSON object per show at `_private/<show>/manifest.json` records every episode ever published
by guid (slug, state, publish time, stored files with size and sha256, staging token). It lets a
run skip unchanged uploads without a HEAD per object, and it is the truth the feed is built from.
It also lists the private keys a write made garbage (`leftovers`) until a later write deletes them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any, Callable, Iterable, Literal

from media_pipeline.errors import StorageError
from media_pipeline.layout import (
    FEED_NAME,
    MANIFEST_CACHE,
    MANIFEST_TYPE,
    PRIVATE_PREFIX,
    content_type_for,
    episode_key,
    feed_key,
    manifest_key,
    show_search_key,
    staging_key,
    staging_prefix,
)
from media_pipeline.model import Episode, Person
from media_pipeline.publishing import leftovers
from media_pipeline.storage import Storage, sha256_bytes
from media_pipeline.storage.conditional import until_landed

log = logging.getLogger(__name__)

FORMAT = 1
State = Literal["staged", "live", "unpublished"]
FEED_TYPE = content_type_for("feed.xml")


@dataclass(frozen=True)
class FileRecord:
    """One stored file. `key` is its public key; a staged file waits at its staging key instead."""

    # described: the described version's media (WCAG 1.2.5); description: a description file (WebVTT)
    kind: Literal["media", "chapters", "transcript", "image", "artwork", "poster", "described", "description"]
    key: str
    size: int
    sha256: str
    content_type: str


@dataclass
class EpisodeRecord:
    guid: str
    slug: str
    state: State
    publish_at: datetime
    duration: float
    files: list[FileRecord] = field(default_factory=list)
    staging: str | None = None  # the token of the staging folder while staged copies exist
    # What the feed entry and pages say of the episode, as it was published (`episode_meta`): the
    # feed is rendered from this, never from the file's current text, so an edit shows only once
    # `publish` accepts it. None in records written before it existed: the file's text is used.
    meta: dict | None = None

    def staged_key(self, show: str, record: FileRecord) -> str:
        if self.staging is None:
            raise ValueError(f"{episode_key(show, self.slug)} has no staging folder")
        return staging_key(show, self.staging, record.key)

    @property
    def media(self) -> list[FileRecord]:
        return [f for f in self.files if f.kind == "media"]


@dataclass
class Manifest:
    show: str
    podcast_guid: str | None = None
    artwork: FileRecord | None = None
    episodes: dict[str, EpisodeRecord] = field(default_factory=dict)
    # Staged copies whose folder a manifest write retired (released, taken down, replaced). They are
    # deleted right after that write; a run killed before then, or a failed delete, would leave them
    # forever, since nothing else names their token. So they stay listed until a later write, which
    # deletes them first and then drops them from the list. Sorted, without duplicates.
    leftovers: list[str] = field(default_factory=list)
    # The show's listener-site pages as last stored, {key: sha256}: `update` writes only pages whose
    # bytes changed and deletes the pages no longer rendered, without reading them back.
    pages: dict[str, str] = field(default_factory=dict)

    def copy(self) -> "Manifest":
        """A copy to change: its records and lists are its own. What no change alters in place is
        shared: file records (frozen) and each record's `meta` snapshot (replaced, never edited)."""
        return Manifest(self.show, self.podcast_guid, self.artwork,
                        {guid: replace(r, files=list(r.files)) for guid, r in self.episodes.items()},
                        list(self.leftovers), dict(self.pages))

    def by_slug(self, slug: str) -> EpisodeRecord | None:
        """The current (not unpublished) record of an episode file, for files whose guid is not yet written."""
        return next((r for r in self.episodes.values() if r.slug == slug and r.state != "unpublished"), None)

    def named_keys(self) -> set[str]:
        """Every public key a live or staged record points at (and the show's artwork)."""
        keys = {f.key for r in self.episodes.values() if r.state != "unpublished" for f in r.files}
        return keys | ({self.artwork.key} if self.artwork else set())

    def retire_keys(self, keys: Iterable[str]) -> list[str]:
        """List public keys a record no longer points at as leftovers (deleted once the feed that
        stopped naming them is stored; see `Manifest.leftovers`); returns them."""
        keys = sorted(set(keys) - self.named_keys())
        self.leftovers = sorted(set(self.leftovers) | set(keys))
        return keys

    def put_record(self, record: EpisodeRecord) -> list[str]:
        """Store `record` in place of the episode's current one and list what the current one
        pointed at and the new one does not (public files replaced by changed bytes or a rename,
        staged copies) as leftovers; returns those keys, for the caller to delete once the feed
        that stops naming them is stored."""
        current = self.episodes.get(record.guid)
        if current == record:  # an unchanged episode (a run with nothing to do): nothing retired
            return []
        self.episodes[record.guid] = record
        if current is None:
            return []
        old_public = {f.key for f in current.files} if current.state == "live" else set()
        retired = self.retire_keys(old_public - {f.key for f in record.files})
        if current.staging:
            new = {record.staged_key(self.show, f) for f in record.files} if record.staging else set()
            staged = sorted({current.staged_key(self.show, f) for f in current.files} - new)
            self.leftovers = sorted(set(self.leftovers) | set(staged))
            retired += staged
        return retired

    def retire_staging(self, record: EpisodeRecord) -> list[str]:
        """Forget the record's staging folder and list its keys as leftovers; returns those keys,
        for the caller to delete once the manifest that says so is stored."""
        if record.staging is None:
            return []
        keys = [record.staged_key(self.show, f) for f in record.files]
        record.staging = None
        self.leftovers = sorted(set(self.leftovers) | set(keys))
        return keys

    def to_bytes(self) -> bytes:
        # Deterministic bytes: a run that changes nothing writes nothing.
        data = {
            "format": FORMAT,
            "show": self.show,
            "podcast_guid": self.podcast_guid,
            "artwork": _file_json(self.artwork) if self.artwork else None,
            "episodes": {guid: episode_json(r) for guid, r in sorted(self.episodes.items())},
        }
        if self.leftovers:  # absent when empty: manifests written before the list existed stay byte-identical
            data["leftovers"] = sorted(set(self.leftovers))
        if self.pages:  # absent when empty, like leftovers
            data["pages"] = dict(sorted(self.pages.items()))
        return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False).encode() + b"\n"

    @classmethod
    def from_bytes(cls, show: str, data: bytes | None) -> "Manifest":
        if not data:
            return cls(show)
        try:
            raw = json.loads(data)
            if raw.get("format") != FORMAT:
                raise ValueError(f"unknown manifest format {raw.get('format')!r}")
            return cls(
                show=raw["show"],
                podcast_guid=raw.get("podcast_guid"),
                artwork=FileRecord(**raw["artwork"]) if raw.get("artwork") else None,
                episodes={guid: _episode_from(guid, r) for guid, r in raw.get("episodes", {}).items()},
                leftovers=_leftovers_from(show, raw.get("leftovers", [])),
                pages=_pages_from(show, raw.get("pages", {})),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise StorageError(f"the publishing manifest cannot be read ({exc}); it must not be edited by hand",
                               path=manifest_key(show)) from exc


def episode_json(r: EpisodeRecord) -> dict:
    data = {"slug": r.slug, "state": r.state, "publish_at": r.publish_at.isoformat(), "duration": round(r.duration, 3),
            "files": [_file_json(f) for f in r.files], "staging": r.staging}
    if r.meta is not None:  # absent in records written before it existed, which stay byte-identical
        data["meta"] = r.meta
    return data


def _file_json(f: FileRecord) -> dict:
    # what dataclasses.asdict gives, without its deep copy of every value (a manifest has thousands)
    return {"kind": f.kind, "key": f.key, "size": f.size, "sha256": f.sha256, "content_type": f.content_type}


# The Episode fields a feed entry and a listener page show; paths (source, transcript, artwork) are
# not among them: what those files gave is published as files the record lists.
_META_FIELDS = ("title", "notes", "summary", "number", "season", "episode_type", "explicit", "keywords")


def episode_meta(episode: Episode) -> dict:
    """The snapshot of `episode` a record keeps: JSON-ready, deterministic."""
    meta: dict[str, Any] = {name: getattr(episode, name) for name in _META_FIELDS}
    meta["keywords"] = list(episode.keywords)
    meta["persons"] = [asdict(p) for p in episode.persons]
    return meta


def with_meta(episode: Episode, meta: dict | None) -> Episode:
    """`episode` as its record's snapshot says it was published (unchanged when there is none)."""
    if meta is None:
        return episode
    fields = {name: meta[name] for name in _META_FIELDS if name in meta}
    fields["keywords"] = tuple(meta.get("keywords", ()))
    fields["persons"] = tuple(Person(**p) for p in meta.get("persons", ()))
    return replace(episode, **fields)


def _leftovers_from(show: str, raw: Any) -> list[str]:
    # Every listed key gets deleted: only staged copies of this show, and this show's public files
    # (media and sidecars a republish or a rename replaced), may be named, so a damaged manifest
    # can never make a run delete the manifest, the feed, its pages or another show's files. A
    # public key is deleted only while no record names it and the stored feed does not (`leftovers.sweep`).
    prefix = staging_prefix(show)

    def fits(key: Any) -> bool:
        if not isinstance(key, str) or ".." in key.split("/") or "//" in key:
            return False
        if key.startswith(prefix):
            return True
        name = key[len(show) + 1:] if key.startswith(f"{show}/") else ""
        return bool(name) and "/" not in name and name not in (FEED_NAME, "index.html")

    if not isinstance(raw, list) or not all(fits(k) for k in raw):
        raise ValueError(f"leftovers must be a list of keys below {prefix} or files of {show}/")
    return sorted(set(raw))


def _pages_from(show: str, raw: Any) -> dict[str, str]:
    # Pages no longer rendered get deleted: only this show's `.../index.html` keys and its search
    # index may be named, so a damaged manifest can never make a run delete media or another show's files.
    def fits(key: Any, value: Any) -> bool:
        return (isinstance(key, str) and isinstance(value, str) and key.startswith(f"{show}/")
                and (key.endswith("index.html") or key == show_search_key(show)) and ".." not in key.split("/"))

    if not isinstance(raw, dict) or not all(fits(k, v) for k, v in raw.items()):
        raise ValueError(f"pages must map keys below {show}/ ending in index.html (or its search.json) to checksums")
    return dict(raw)


def _episode_from(guid: str, raw: dict) -> EpisodeRecord:
    return EpisodeRecord(guid=guid, slug=raw["slug"], state=raw["state"],
                         publish_at=datetime.fromisoformat(raw["publish_at"]), duration=float(raw["duration"]),
                         files=[FileRecord(**f) for f in raw.get("files", [])], staging=raw.get("staging"),
                         meta=_meta_from(raw.get("meta")))


def _meta_from(raw: Any) -> dict | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("title"), str):
        raise ValueError("an episode's meta must be an object with a title")
    return raw


@dataclass(frozen=True)
class Snapshot:
    """A show's feed and manifest as read together, with the versions (etags) conditional writes need."""

    manifest: Manifest
    manifest_bytes: bytes | None
    manifest_etag: str | None
    feed: bytes | None
    feed_etag: str | None


def read_manifest(storage: Storage, show: str) -> tuple[Manifest, bytes | None, str | None]:
    got = storage.get_bytes(manifest_key(show))
    if got is None:
        return Manifest(show), None, None
    return Manifest.from_bytes(show, got[0]), got[0], got[1].etag


def read(storage: Storage, show: str) -> Snapshot:
    """Read the feed, then the manifest. The order matters: a feed written from a manifest newer than
    the one we read has already changed the feed's etag, so our conditional feed write fails and we
    rebuild instead of overwriting it with an older view."""
    got = storage.get_bytes(feed_key(show))
    feed, feed_etag = (got[0], got[1].etag) if got else (None, None)
    manifest, data, etag = read_manifest(storage, show)
    return Snapshot(manifest, data, etag, feed, feed_etag)


@dataclass(frozen=True)
class Updated:
    manifest: Manifest
    feed_written: bool
    attempts: int
    result: Any = None  # what `change` returned in the attempt whose manifest write landed
    pages_written: tuple[str, ...] = ()  # listener-site pages stored or deleted by this call
    # The etags of the manifest and feed this call rendered and found stored exactly so (it wrote
    # nothing); None when it wrote, or skipped rendering because `unchanged` said so
    confirmed: tuple[str, str] | None = None


def update(storage: Storage, show: str, change: Callable[[Manifest], Any], render: Callable[[Manifest], bytes], *,
           feed_cache_control: str, snapshot: Snapshot | None = None, attempts: int = 12,
           pages: Callable[[Manifest], dict[str, bytes]] | None = None, page_cache_control: str = "",
           unchanged: Callable[[Snapshot, Manifest], bool] | None = None) -> Updated:
    """Apply `change` to the show's manifest and store it, then store the feed `render` builds from it.

    Both writes are conditional (If-Match on the etag read, If-None-Match for a first write). When
    another writer got there first, everything is read again and `change` re-applied to their
    version, so neither loses the other's episodes; `change` must therefore be idempotent. The feed
    is rendered before any write (a feed that cannot be built leaves storage as it was) and written
    after the manifest, so a crash in between is repaired by the next run, which finds the stored
    feed differing from the one the manifest gives. Unchanged bytes are not written at all.

    When the manifest is written anyway, the leftovers it listed are deleted first and dropped
    from the list in the same write (see `Manifest.leftovers`); a run that writes nothing deletes
    nothing, so a run with no change still costs only its reads.

    `change` may return a value (say, what it changed); `Updated.result` is the value of the
    attempt whose manifest write landed, so a run that retries only its feed still knows what it did.

    `pages` renders the show's listener-site pages from the same manifest as the feed ({key: bytes};
    see `media_pipeline.site`). They are rendered with the feed, before any write; the pages whose
    bytes changed are stored and those no longer rendered (an episode taken down or renamed) are
    deleted before the manifest that records them, so the order is media, pages, manifest, feed,
    and a run stopped in between is repaired by the next.

    `unchanged(snapshot, manifest)` says, for a `change` that left the manifest as read, that the
    stored feed and pages are what rendering would give (they were rendered from the same inputs
    and found stored at these very versions before: `Updated.confirmed`); then nothing is
    rendered, and nothing written.
    """
    landed: Any = None
    page_writes: dict[str, str | None] = {}  # key -> sha256 this call stored (None: deleted)
    wrote_manifest = False
    swept: set[str] = set()  # deleted by this call, so a retry does not delete them again

    def attempt(n: int) -> Updated:
        nonlocal landed, wrote_manifest
        snap = snapshot if (n == 1 and snapshot is not None) else read(storage, show)
        manifest = snap.manifest.copy()
        result = change(manifest)
        skip = unchanged is not None and not snap.manifest.leftovers and unchanged(snap, manifest)
        if skip:
            log.debug("%s: the stored feed and pages are as rendered from these inputs before; not rendered again", show)
        feed = snap.feed if skip and snap.feed is not None else render(manifest)
        rendered = pages(manifest) if pages is not None and not skip else None
        written_before = dict(page_writes)
        if rendered is not None:
            manifest.pages = {key: sha256_bytes(body) for key, body in rendered.items()}
        # skipped: the manifest is the one read, whose bytes a run before found to be its own
        data = snap.manifest_bytes if skip and snap.manifest_bytes is not None else manifest.to_bytes()
        # Public leftovers (files replaced under a live feed) are swept even by a run that changes
        # nothing else, so a run stopped before deleting them is cleaned up by the very next run.
        public_left = any(not key.startswith(PRIVATE_PREFIX) for key in snap.manifest.leftovers)
        if snap.manifest.leftovers and (data != snap.manifest_bytes or public_left):
            leftovers.sweep(storage, manifest, snap.manifest.leftovers, swept, snap.feed)
            data = manifest.to_bytes()
        feed_written = False
        # A lost race on either conditional write (PreconditionFailed) goes round the loop again.
        if rendered is not None:
            _store_pages(storage, snap.manifest.pages, rendered, manifest.pages, page_writes, page_cache_control)
        if data != snap.manifest_bytes:
            storage.put_bytes(manifest_key(show), data, content_type=MANIFEST_TYPE, cache_control=MANIFEST_CACHE,
                              if_match=snap.manifest_etag, if_absent=snap.manifest_etag is None)
            landed, wrote_manifest = result, True
        if feed != snap.feed:
            storage.put_bytes(feed_key(show), feed, content_type=FEED_TYPE, cache_control=feed_cache_control,
                              if_match=snap.feed_etag, if_absent=snap.feed_etag is None)
            feed_written = True
        if wrote_manifest or feed_written:
            leftovers.delete_retired(storage, manifest, feed)
        confirmed = None
        if (not skip and not wrote_manifest and not feed_written and page_writes == written_before
                and snap.manifest_etag is not None and snap.feed_etag is not None):
            confirmed = (snap.manifest_etag, snap.feed_etag)
        return Updated(manifest, feed_written, n, landed if wrote_manifest else result, tuple(sorted(page_writes)),
                       confirmed)

    return until_landed(attempt, conflict=lambda exc: f"{show}: another run changed {exc.path}", attempts=attempts,
                        gave_up="other runs kept changing the feed at the same time", path=feed_key(show))


def _store_pages(storage: Storage, stored: dict[str, str], rendered: dict[str, bytes], wanted: dict[str, str],
                 written: dict[str, str | None], cache_control: str) -> None:
    """Store the pages whose bytes differ from what is stored (the manifest read, overlaid with this
    call's own writes), then delete the pages the manifest lists that are no longer rendered."""
    current = {**stored, **written}
    for key in sorted(rendered):
        if current.get(key) != wanted[key]:
            storage.put_bytes(key, rendered[key], content_type=content_type_for(key), cache_control=cache_control)
            written[key] = wanted[key]
    for key in sorted(k for k, v in current.items() if v is not None and k not in rendered):
        storage.delete(key)
        written[key] = None
