"""An episode's files for publishing, made in the run's work folder: its guid written back into its
file, the renditions copied and tagged (captions muxed into video), the poster, and the sidecars
(episode artwork, JSON chapters and their images, the transcript forms). `publish.prepare_episode`
calls them in that order."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from media_pipeline import layout
from media_pipeline.audio import process
from media_pipeline.config.frontmatter import record_guid
from media_pipeline.model import Episode
from media_pipeline.publishing.run import ShowRun
from media_pipeline.publishing.uploads import Upload
from media_pipeline.tags import artwork, chapters, tagging
from media_pipeline.transcripts import forms as transcript_forms
from media_pipeline.transcripts import mux as subtitles
from media_pipeline.util.fsutil import atomic_copy, atomic_write, display_path
from media_pipeline.video import picture, poster

log = logging.getLogger(__name__)


def assign_guid(run: ShowRun, episode: Episode) -> str:
    """The episode's guid: the one in its file, else the one the manifest knows for its slug (a run
    that stopped before writing it back), else a new random one; written back into the file
    before anything is uploaded, so it never changes afterwards."""
    if episode.guid:
        return episode.guid
    known = run.current.by_slug(episode.slug)
    guid = known.guid if known else str(uuid.uuid4())
    recorded = record_guid(episode.path, guid)
    if recorded == guid:
        log.info("%s: assigned guid %s", episode.path, guid)
    return recorded


def prepared_show_art(run: ShowRun) -> Path | None:
    """The show's artwork made fit for the feed, or None when the show has none."""
    if not run.show.artwork or not run.show.artwork.is_file():
        return None
    return artwork.prepare_artwork(run.show.artwork, run.work / "show-art").feed


def tag_copies(run: ShowRun, episode: Episode, processed: process.ProcessResult) -> list[Upload]:
    """Copy each rendition (the cache stays untouched) and tag the copy for this episode; a video
    copy gets the episode's captions as mov_text subtitle tracks, one per language."""
    folder = run.episode_work(episode)
    folder.mkdir(parents=True, exist_ok=True)
    cover = None
    if episode.artwork:
        cover = artwork.prepare_artwork(episode.artwork, folder / "art").embed
    elif run.show.artwork and run.show.artwork.is_file():
        cover = artwork.prepare_artwork(run.show.artwork, run.work / "show-art").embed
    files = []
    for rendition in processed.renditions:
        is_described = rendition.path.name.startswith(f"{episode.slug}{layout.DESCRIBED_SUFFIX}.")
        key = (layout.described_key(run.show.slug, episode.slug, rendition.suffix) if is_described
               else layout.media_key(run.show.slug, episode.slug, rendition.suffix, rendition.size))
        copy = folder / key.rsplit("/", 1)[-1]
        # the captions' times are the recording's: the described version, longer by its held
        # pictures, is published without caption tracks (its page offers the descriptive transcript)
        tracks = (subtitles.subtitle_tracks(run.show, episode, duration=rendition.duration, folder=folder)
                  if rendition.role == "video" and not is_described else [])
        if tracks:  # captions as soft subtitles, so a downloaded video keeps them (EN 301 549 7.1.3)
            subtitles.mux_subtitles(rendition.path, copy, tracks)
        else:
            atomic_copy(rendition.path, copy)
        data = tagging.tag_data(run.show, episode, guid=episode.guid or "", feed_url=run.feed_url,
                                episode_url=run.url(key), duration=rendition.duration, cover=cover)
        tagging.tag_file(copy, data, id3_version=run.show.id3_version)
        files.append(Upload("described" if is_described else "media", copy, key))
    return files


def posters(run: ShowRun, episode: Episode, processed: process.ProcessResult) -> list[Upload]:
    """A video's 16:9 poster as JPEG and WebP: the episode's own `poster` image, else a
    representative frame of the source-quality MP4 (`video.poster`)."""
    primary = next((r for r in processed.renditions if r.role == "video" and r.size is None), None)
    if primary is None:
        return []
    found = picture.read(primary.path)
    if found is None:
        return []
    folder, slug, show = run.episode_work(episode), episode.slug, run.show.slug
    folder.mkdir(parents=True, exist_ok=True)
    jpeg, webp = folder / f"{slug}.poster.jpg", folder / f"{slug}.poster.webp"
    if episode.poster:
        poster.still_poster(episode.poster, poster.poster_size(found), jpeg, webp)
    else:
        poster.make_poster(primary.path, found, jpeg, webp)
    return [Upload("poster", jpeg, layout.poster_key(show, slug, ".jpg")),
            Upload("poster", webp, layout.poster_key(show, slug, ".webp"))]


def sidecars(run: ShowRun, episode: Episode, duration: float) -> list[Upload]:
    """Episode artwork, JSON chapters (Podcasting 2.0) and each transcript in four forms, when given."""
    folder, slug, show = run.episode_work(episode), episode.slug, run.show.slug
    files: list[Upload] = []
    if episode.artwork:
        prepared = artwork.prepare_artwork(episode.artwork, folder / "art").feed
        files.append(Upload("image", prepared, layout.episode_image_key(show, slug, prepared.suffix)))
    if episode.chapters:
        chapter_images: dict = {}
        for image, number in chapters.image_numbers(episode.chapters).items():
            key = layout.chapter_image_key(show, slug, number, image.suffix)
            files.append(Upload("image", image, key))
            chapter_images[image] = run.url(key)
        path = folder / layout.chapters_name(slug)
        atomic_write(path, chapters.chapters_json(episode, duration=duration, image_url=chapter_images.get))
        files.append(Upload("chapters", path, layout.sidecar_key(show, path.name)))
    # every checked transcript (and a draft only where the show allows machine ones) as WebVTT, SRT,
    # HTML and Podcasting 2.0 JSON
    files += [Upload(kind, path, key) for kind, path, key in
              transcript_forms.write_forms(run.show, episode, duration=duration, folder=folder)]
    # untimed transcripts (HTML, plain text) as they came, HTML sanitised as published notes are
    files += [Upload(kind, path, key) for kind, path, key in
              transcript_forms.write_text_forms(run.show, episode, folder=folder,
                                                display=lambda p: display_path(run.ws, p))]
    return files
