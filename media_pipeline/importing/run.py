"""`import`: a show moves in from its feed. The channel becomes `feeds/<show>.toml`, each item an
episode file with its guid exactly as it was, its media, artwork, chapters and transcripts
downloaded and verified first, so an episode file never points at a file that is not whole.

A second run finds each episode by its guid and changes nothing; an interrupted one continues.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from media_pipeline.audio.probe import probe
from media_pipeline.config.episodes import episode_files
from media_pipeline.config.frontmatter import load_front_matter, split_front_matter
from media_pipeline.errors import ConfigError, PipelineError
from media_pipeline.feeds.feed import podcast_guid_for
from media_pipeline.importing import files
from media_pipeline.importing.fetch import DownloadError, download, fetch_to_file, open_url
from media_pipeline.importing.parsed import ChannelData, ItemData, Remote
from media_pipeline.importing.reader import read_channel, read_items
from media_pipeline.model import Workspace
from media_pipeline.text.from_html import html_to_markdown
from media_pipeline.util.fsutil import atomic_write, display_path

log = logging.getLogger(__name__)

# What a probed container says an enclosure is, against the type the feed declared.
_CONTAINER_TYPES = {
    "mp3": ("audio/mpeg", "audio/mp3"),
    "mov,mp4,m4a,3gp,3g2,mj2": ("audio/mp4", "audio/x-m4a", "audio/aac", "video/mp4", "video/x-m4v",
                                "video/quicktime", "audio/m4a"),
    "ogg": ("audio/ogg", "audio/opus", "audio/vorbis"),
    "wav": ("audio/wav", "audio/x-wav", "audio/wave"),
    "flac": ("audio/flac", "audio/x-flac"),
    "aac": ("audio/aac", "audio/aacp"),
    "matroska,webm": ("audio/webm", "video/webm", "video/x-matroska"),
}
SMALL_FILE_LIMIT = 20 << 20  # chapters, transcripts: read whole, so bounded


@dataclass
class ItemResult:
    label: str
    state: str  # "imported", "unchanged", "would import", "failed", "skipped"
    path: str = ""  # the episode file, workspace-relative
    reason: str = ""


@dataclass
class ImportReport:
    show: str
    feed: str
    show_file: str = ""  # "written", "kept", "unchanged", "would write"
    items: list[ItemResult] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # workspace-relative, in order
    remarks: list[str] = field(default_factory=list)  # one line each: what the import decided

    @property
    def failures(self) -> list[ItemResult]:
        return [r for r in self.items if r.state == "failed"]

    def count(self, state: str) -> int:
        return sum(1 for r in self.items if r.state == state)


@dataclass
class _Run:
    ws: Workspace
    show: str
    feed_url: str
    channel: ChannelData
    dry_run: bool
    force: bool
    report: ImportReport
    on_item: Callable[[ItemResult], None] | None
    taken: set[str] = field(default_factory=set)
    by_guid: dict[str, Path] = field(default_factory=dict)

    def rel(self, path: Path) -> str:
        return display_path(self.ws, path)

    def remark(self, where: str, text: str) -> None:
        line = f"{where}: {text}"
        self.report.remarks.append(line)
        log.warning("%s", line)

    def wrote(self, path: Path) -> None:
        self.report.written.append(self.rel(path))


def import_feed(ws: Workspace, source: str, *, show: str | None = None, dry_run: bool = False,
                force: bool = False, on_item: Callable[[ItemResult], None] | None = None) -> ImportReport:
    """Import the feed at `source` (an http(s) URL or a file) into the workspace as show `show`
    (default: from the feed's title). One item's failure is its own line; the rest go on."""
    work = ws.root / ".media-pipeline" / "import"
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=work, prefix="feed.", suffix=".xml") as copy:
        final_url = fetch_to_file(source, Path(copy.name))
        feed_url = final_url or (source if "://" in source else "")
        channel = read_channel(Path(copy.name), feed_url)
        slug = show or files.slugify(channel.title)
        if not slug or not files.SLUG.match(slug):
            raise ConfigError("needs a show name of a-z, 0-9, - and _ (give one with --show)", path=source,
                              field="show")
        report = ImportReport(show=slug, feed=source)
        run = _Run(ws, slug, feed_url, channel, dry_run, force, report, on_item)
        _find_existing(run)
        if channel.locked:
            run.remark(source, f"the feed is locked (podcast:locked, owner {channel.locked_owner or 'not named'}): "
                               "import only a show that is yours, and unlock it at the old host when it moves")
        _write_show(run)
        seen: dict[str, int] = {}
        for item in read_items(Path(copy.name), feed_url, channel):
            result = _import_item(run, item, seen)
            report.items.append(result)
            if on_item:
                on_item(result)
    return report


def _find_existing(run: _Run) -> None:
    """Episode files already in the show's folder, by the guid they hold: a second import, or one
    after a producer added files, matches them and does not write them again."""
    folder = run.ws.episodes_dir / run.show
    for path in episode_files(folder):
        run.taken.add(path.stem)
        try:
            parts = split_front_matter(path.read_text(encoding="utf-8"))
            data = load_front_matter(parts[0]) if parts else None
        except Exception:  # noqa: BLE001 (a broken file is check's business)
            continue
        guid = data.get("guid") if isinstance(data, dict) else None
        if isinstance(guid, (str, int)) and str(guid).strip():
            run.by_guid[str(guid).strip()] = path


def _write_show(run: _Run) -> None:
    ws, channel = run.ws, run.channel
    target = ws.feeds_dir / f"{run.show}.toml"
    artwork = ""
    if channel.artwork:
        art = ws.root / "artwork" / f"{run.show}{files.suffix_for(channel.artwork, '', {}, files.IMAGE_SUFFIXES) or '.jpg'}"
        artwork = run.rel(art)
        if not run.dry_run:
            _fetch_small_or_note(run, channel.artwork, art, "show artwork", run.rel(target))
    else:
        run.remark(run.rel(target), "the feed has no artwork; add a square JPEG or PNG of 1400 to 3000 px")
    guid = channel.podcast_guid
    if not guid and run.feed_url:
        # Podcasting 2.0: the guid is the show's for good; one the old feed never wrote is the one
        # its URL implies, which apps that know the show already computed.
        guid = podcast_guid_for(run.feed_url)
        run.remark(run.rel(target), f"the feed has no podcast:guid; {guid}, derived from its URL, is kept")
    text = files.show_toml(channel, feed_url=run.feed_url, artwork=artwork, podcast_guid=guid)
    if target.exists():
        if target.read_text(encoding="utf-8", errors="replace") == text:
            run.report.show_file = "unchanged"
            return
        if not run.force:
            run.report.show_file = "kept"
            run.remark(run.rel(target), "exists and differs from the feed's channel; kept as it is (--force replaces it)")
            return
    if run.dry_run:
        run.report.show_file = "would write"
        run.wrote(target)
        return
    atomic_write(target, text.encode("utf-8"))
    run.report.show_file = "written"
    run.wrote(target)


def _import_item(run: _Run, item: ItemData, seen: dict[str, int]) -> ItemResult:
    label = item.label
    for text in item.remarks:
        run.remark(label, text)
    if item.enclosure is None:
        return ItemResult(label, "skipped", reason="has no enclosure: there is no episode to publish")
    if item.guid_derived:
        run.remark(label, f"has no guid; its enclosure URL {item.guid} is kept as the guid, as apps know it by that")
    if item.guid in seen:
        return ItemResult(label, "skipped", reason=f"has the same guid as item {seen[item.guid]} ({item.guid}); apps "
                                                   "know only one of them, so it is not imported")
    seen[item.guid] = item.position
    existing = run.by_guid.get(item.guid)
    if existing is not None and not run.force:
        return ItemResult(label, "unchanged", run.rel(existing))
    slug = existing.stem if existing is not None else files.episode_slug(item, run.taken)
    target = run.ws.episodes_dir / run.show / f"{slug}.md"
    try:
        return _import_episode(run, item, slug, target)
    except PipelineError as exc:
        return ItemResult(label, "failed", run.rel(target), str(exc))


def _import_episode(run: _Run, item: ItemData, slug: str, target: Path) -> ItemResult:
    ws, show, label = run.ws, run.show, item.label
    enclosure = item.enclosure
    assert enclosure is not None
    suffix = files.suffix_for(enclosure.url, enclosure.mime_type, files.MEDIA_SUFFIX, files.MEDIA_SUFFIXES)
    media = ws.root / "media" / show / f"{slug}{suffix}"
    publish_at = item.published
    if publish_at is None:
        publish_at = run.channel.last_build or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        run.remark(label, f"has no date; imported with {publish_at.isoformat()} (the feed's last build), check it")
    if target.exists() and not run.force:
        return ItemResult(label, "failed", run.rel(target), "exists and holds another guid; kept as it is "
                                                             "(--force replaces it)")
    if run.dry_run:
        for path in (media, target):
            if not path.exists() or path == target:
                run.wrote(path)
        return ItemResult(label, "would import", run.rel(target))
    # The media first: an episode file is written only once its recording is whole and verified.
    _fetch_media(run, item, enclosure, media)
    artwork = None
    if item.artwork:
        art = ws.root / "artwork" / show / f"{slug}{files.suffix_for(item.artwork, '', {}, files.IMAGE_SUFFIXES) or '.jpg'}"
        if _fetch_small_or_note(run, item.artwork, art, "episode artwork", label):
            artwork = run.rel(art)
    chapters = _chapters(run, item, slug)
    transcripts, untimed = _transcripts(run, item, slug)
    notes = html_to_markdown(item.notes_html)
    # items of one instant keep the old feed's order: the earlier in the feed is listed as the newer
    order = run.channel.items - item.position + 1 if item.published in run.channel.shared_times else None
    text = files.episode_text(item, source=run.rel(media), publish_at=publish_at, notes=notes, artwork=artwork,
                              chapters=chapters, transcripts=transcripts, feed_url=run.feed_url,
                              text_transcripts=untimed, order=order)
    if target.exists() and target.read_text(encoding="utf-8", errors="replace") == text:
        return ItemResult(label, "unchanged", run.rel(target))
    atomic_write(target, text.encode("utf-8"), exclusive=not (run.force and target.exists()))
    run.by_guid[item.guid] = target
    run.wrote(target)
    return ItemResult(label, "imported", run.rel(target))


def _fetch_media(run: _Run, item: ItemData, enclosure: Remote, media: Path) -> None:
    """The recording, downloaded once: a file already in its place was verified when it got there."""
    if media.exists():
        if enclosure.length and media.stat().st_size != enclosure.length and not run.force:
            run.remark(item.label, f"{run.rel(media)} is already there ({media.stat().st_size} bytes, the feed says "
                                   f"{enclosure.length}); it is kept")
        return

    def verify(path: Path) -> None:
        try:
            info = probe(path)
        except PipelineError as exc:
            raise DownloadError(f"is not a recording: {exc.reason}", path=enclosure.url) from None
        expected = _CONTAINER_TYPES.get(info.container, ())
        if enclosure.mime_type and expected and enclosure.mime_type not in expected:
            run.remark(item.label, f"the feed calls the enclosure {enclosure.mime_type}, but it is {info.container}")
        if item.duration and abs(info.duration - item.duration) > max(2.0, 0.02 * info.duration):
            run.remark(item.label, f"itunes:duration says {item.duration:g} s, the recording lasts {info.duration:.1f} s")

    fetched = download(enclosure.url, media, expected_length=enclosure.length, verify=verify)
    if enclosure.length and fetched.length != enclosure.length:
        # Feeds often carry a stale or zero length; the server's is what listeners download.
        run.remark(item.label, f"the feed says {enclosure.length} bytes, the server sent {fetched.length}; "
                               "the server's file is kept")
    run.wrote(media)


def _fetch_small_or_note(run: _Run, url: str, target: Path, what: str, where: str) -> bool:
    """Artwork and the like: fetched once; a failure is a remark, never the episode's end."""
    if target.exists():
        return True
    try:
        download(url, target)
    except PipelineError as exc:
        run.remark(where, f"{what} not downloaded: {exc}")
        return False
    run.wrote(target)
    return True


def _read_small(url: str) -> bytes:
    response = open_url(url)
    with response:
        data = response.read(SMALL_FILE_LIMIT + 1)
    if len(data) > SMALL_FILE_LIMIT:
        raise DownloadError(f"is larger than {SMALL_FILE_LIMIT >> 20} MB", path=url)
    return data


def _chapters(run: _Run, item: ItemData, slug: str):
    """The item's chapters, from its JSON chapters file (Podcasting 2.0) or inline Podlove Simple
    Chapters; their images are downloaded beside the episode's artwork."""
    chapters = list(item.chapters)
    if item.chapters_url is not None:
        try:
            chapters = files.chapters_from_json(_read_small(item.chapters_url.url))
        except (PipelineError, ValueError, UnicodeDecodeError) as exc:
            run.remark(item.label, f"chapters not imported: {item.chapters_url.url}: {exc}")
            chapters = list(item.chapters)
    result = []
    for n, chapter in enumerate(chapters, 1):
        image = None
        if chapter.image:
            suffix = files.suffix_for(chapter.image, "", {}, files.IMAGE_SUFFIXES) or ".jpg"
            path = run.ws.root / "artwork" / run.show / f"{slug}-chapter-{n}{suffix}"
            if _fetch_small_or_note(run, chapter.image, path, f"the image of chapter {n}", item.label):
                image = run.rel(path)
        result.append((chapter, image))
    if result and result[0][0].start > 0:
        run.remark(item.label, f"its first chapter starts at {result[0][0].start:g} s; the workspace wants one at "
                               "00:00:00 (check names it)")
    return result


def _transcripts(run: _Run, item: ItemData, slug: str) -> tuple[list[tuple[str, str | None]],
                                                                 list[tuple[str, str | None]]]:
    """Every podcast:transcript downloaded into transcripts/<show>/. The episode names one timed
    transcript per language (WebVTT, SRT, or Podcasting 2.0 JSON turned into WebVTT), from which
    publishing makes every timed form and an HTML page, and one untimed one (HTML, plain text) per
    language it is published as: plain text always, HTML where no timed transcript of its language
    gives the page already. Returns (timed, untimed), each as (file, language)."""
    folder = run.ws.root / "transcripts" / run.show
    got: list[tuple[Path, str | None]] = []
    untimed: list[tuple[Path, str | None]] = []
    used: set[str] = set()
    # JSON last: it is turned into WebVTT only when no WebVTT or SRT of its language came
    for remote in sorted(item.transcripts, key=lambda r: files.transcript_suffix(r.url, r.mime_type) == ".json"):
        language = remote.language if remote.language and remote.language != run.channel.language else None
        suffix = files.transcript_suffix(remote.url, remote.mime_type)
        name = f"{slug}{'.' + language if language else ''}{suffix}"
        if name in used:
            continue
        used.add(name)
        path = folder / name
        if not _fetch_small_or_note(run, remote.url, path, f"the {remote.mime_type or suffix} transcript", item.label):
            continue
        if suffix == ".json":
            if any(lang == language for _, lang in got):
                continue
            vtt = path.with_name(f"{path.stem}.from-json.vtt")
            if not any(p == vtt for p, _ in got) and not vtt.exists():
                try:
                    atomic_write(vtt, files.json_transcript_to_vtt(path.read_bytes(), vtt))
                    run.wrote(vtt)
                except (ValueError, UnicodeDecodeError, AttributeError) as exc:
                    run.remark(item.label, f"the JSON transcript {remote.url} cannot be read: {exc}")
                    continue
            path = vtt
        if path.suffix in (".vtt", ".srt"):
            got.append((path, language))
        elif path.suffix in (".html", ".txt"):
            untimed.append((path, language))
    chosen = files.timed_choice(got)
    timed_languages = {language for _, language in chosen}
    named: dict[str | None, tuple[Path, str | None]] = {}
    for path, language in untimed:
        if path.suffix == ".html" and language in timed_languages:
            run.remark(item.label, f"{run.rel(path)} is kept but not named: the timed transcript of its language is "
                                   "published as an HTML page too")
        elif language in named:
            run.remark(item.label, f"{run.rel(path)} is kept but not named: {run.rel(named[language][0])} is the "
                                   "untimed transcript of its language")
        else:
            named[language] = (path, language)
    return ([(run.rel(path), language) for path, language in chosen],
            [(run.rel(path), language) for path, language in named.values()])
