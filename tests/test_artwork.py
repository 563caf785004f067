"""Artwork against Apple's rules, and the compliant copies derived for the feed and for embedding."""

from __future__ import annotations

import logging
import os
import shutil
import time

import pytest
from PIL import Image

from media_pipeline.errors import MediaError
from media_pipeline.tags import artwork
from media_pipeline.util import filememo

from tagging_support import make_image


def reasons(problems) -> list[str]:
    return [str(p) for p in problems]


@pytest.mark.parametrize("name,size,mode", [("ok.jpg", 1400, "RGB"), ("ok.png", 3000, "RGB"),
                                            ("palette.png", 2000, "P")])
def test_compliant_artwork_has_no_problems(tmp_path, name, size, mode):
    path = make_image(tmp_path / name, size, mode=mode, noise=False)
    assert artwork.check_artwork(path, f"art/{name}") == []


def test_each_violation_names_the_file_and_the_rule(tmp_path):
    """Must show 6 (check): 1000x1000, 4000x3000 and CMYK art each named with the rule broken."""
    small = make_image(tmp_path / "small.jpg", 1000, noise=False)
    wide = make_image(tmp_path / "wide.jpg", 4000, 3000, noise=False)
    cmyk = make_image(tmp_path / "cmyk.jpg", 1400, mode="CMYK", noise=False)

    assert reasons(artwork.check_artwork(small, "feeds/art/small.jpg")) == [
        "feeds/art/small.jpg: artwork: is 1000x1000 px; Apple Podcasts needs 1400 to 3000 px"]
    assert reasons(artwork.check_artwork(wide, "feeds/art/wide.jpg")) == [
        "feeds/art/wide.jpg: artwork: is 4000x3000 px; Apple Podcasts needs square artwork",
        "feeds/art/wide.jpg: artwork: is 4000x3000 px; Apple Podcasts needs 1400 to 3000 px"]
    problems = artwork.check_artwork(cmyk, "feeds/art/cmyk.jpg", field="episode artwork")
    assert reasons(problems) == [
        "feeds/art/cmyk.jpg: episode artwork: uses the CMYK colour space; Apple Podcasts needs RGB "
        "(publish derives an RGB copy)"]
    assert all(p.severity == "error" for p in problems)


def test_transparency_greyscale_format_and_unreadable_files(tmp_path):
    alpha = make_image(tmp_path / "alpha.png", 1400, mode="RGBA", noise=False)
    grey = make_image(tmp_path / "grey.jpg", 1400, mode="L", noise=False)
    gif = make_image(tmp_path / "art.gif", 1400, mode="P", noise=False)
    text = tmp_path / "art.jpg"
    text.write_text("not a picture")
    assert reasons(artwork.check_artwork(alpha, "alpha.png")) == [
        "alpha.png: artwork: has transparency (an alpha channel); Apple Podcasts needs artwork without it "
        "(publish derives a flattened copy)"]
    assert reasons(artwork.check_artwork(grey, "grey.jpg")) == [
        "grey.jpg: artwork: uses the greyscale colour space; Apple Podcasts needs RGB (publish derives an RGB copy)"]
    assert reasons(artwork.check_artwork(gif, "art.gif")) == ["art.gif: artwork: is GIF; Apple Podcasts needs JPEG or PNG"]
    assert len(artwork.check_artwork(text, "art.jpg")) == 1 and "cannot be read as an image" in \
        str(artwork.check_artwork(text, "art.jpg")[0])
    assert reasons(artwork.check_artwork(tmp_path / "gone.jpg", "gone.jpg")) == ["gone.jpg: artwork: file not found"]
    misnamed = make_image(tmp_path / "cover.jpg", 1400, fmt="PNG", noise=False)
    assert reasons(artwork.check_artwork(misnamed, "cover.jpg")) == [
        "cover.jpg: artwork: is a PNG file named .jpg; name it .png"]


def test_large_png_with_alpha_becomes_a_compliant_jpeg(tmp_path):
    """Must show 6 (publish): 4000x4000 PNG with alpha -> 3000x3000 RGB JPEG for the feed."""
    source = make_image(tmp_path / "show.png", 4000, mode="RGBA")
    prepared = artwork.prepare_artwork(source, tmp_path / "cache")

    with Image.open(prepared.feed) as feed:
        assert (feed.format, feed.size, feed.mode) == ("JPEG", (3000, 3000), "RGB")
        assert feed.getpixel((5, 5)) >= (250, 250, 250), "transparent corners flattened onto white"
    assert artwork.check_artwork(prepared.feed, "feed.jpg") == []
    with Image.open(prepared.embed) as embed:
        assert (embed.format, embed.size, embed.mode) == ("JPEG", (1400, 1400), "RGB")
    assert prepared.embed.stat().st_size <= artwork.EMBED_MAX_BYTES
    assert prepared.feed.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted([prepared.feed.name, prepared.embed.name])

    # cached by content: a second run reuses the files, and a copy elsewhere gives the same bytes
    before = prepared.feed.stat().st_mtime_ns
    assert artwork.prepare_artwork(source, tmp_path / "cache") == prepared
    assert prepared.feed.stat().st_mtime_ns == before
    again = artwork.prepare_artwork(source, tmp_path / "other")
    assert again.feed.read_bytes() == prepared.feed.read_bytes()
    assert again.embed.read_bytes() == prepared.embed.read_bytes()


def test_cmyk_is_converted_and_compliant_jpeg_is_kept_byte_for_byte(tmp_path):
    cmyk = make_image(tmp_path / "cmyk.jpg", 1600, mode="CMYK")
    prepared = artwork.prepare_artwork(cmyk, tmp_path / "cache")
    with Image.open(prepared.feed) as feed:
        assert (feed.size, feed.mode) == ((1600, 1600), "RGB")

    good = make_image(tmp_path / "good.jpg", 2000)
    prepared = artwork.prepare_artwork(good, tmp_path / "cache")
    assert prepared.feed.read_bytes() == good.read_bytes()
    with Image.open(prepared.embed) as embed:
        assert embed.size == (1400, 1400)
    assert prepared.embed.stat().st_size <= artwork.EMBED_MAX_BYTES


def test_what_cannot_be_fixed_is_an_error(tmp_path):
    wide = make_image(tmp_path / "wide.png", 3000, 2000, noise=False)
    with pytest.raises(MediaError, match=r"wide\.png: artwork: is 3000x2000 px; Apple Podcasts needs square"):
        artwork.prepare_artwork(wide, tmp_path / "cache")
    small = make_image(tmp_path / "small.png", 800, noise=False)
    with pytest.raises(MediaError, match=r"small\.png: artwork: is 800x800 px; .* at least 1400 px"):
        artwork.prepare_artwork(small, tmp_path / "cache")
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".")], "no temp files left"


def test_embeddable_keeps_small_images_and_shrinks_large_ones(tmp_path):
    small = make_image(tmp_path / "chapter.png", 500, noise=False)
    assert artwork.embeddable(small) == ("image/png", small.read_bytes())
    large = make_image(tmp_path / "huge.jpg", 2400)
    mime, data = artwork.embeddable(large)
    assert mime == "image/jpeg" and len(data) <= artwork.EMBED_MAX_BYTES
    assert artwork.image_info(data) == {"mime": "image/jpeg", "width": 1400, "height": 1400, "bytes": len(data)}
    assert os.path.getsize(large) > len(data)


def _settle(path) -> None:
    """Wait until `path` was last changed longer ago than a stat can be trusted for (racy window)."""
    age = time.time_ns() - max(path.stat().st_mtime_ns, path.stat().st_ctime_ns)
    time.sleep(max(0, filememo.RACY_SECONDS * 1e9 - age) / 1e9 + 0.05)


def _work(caplog) -> tuple[int, int]:
    """How often prepare_artwork read a source and derived copies, by its log records."""
    messages = [r.getMessage() for r in caplog.records if r.name == "media_pipeline.tags.artwork"]
    return sum(m.endswith(": read") for m in messages), sum(": wrote " in m for m in messages)


def test_an_unchanged_image_is_read_once_per_process_and_a_changed_one_is_prepared_again(tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="media_pipeline.tags.artwork")
    source = make_image(tmp_path / "show.png", 1400, mode="RGBA", noise=False)
    _settle(source)
    first = artwork.prepare_artwork(source, tmp_path / "cache")
    assert _work(caplog) == (1, 1)
    for _ in range(3):  # publish asks for the show's art in several stages
        assert artwork.prepare_artwork(source, tmp_path / "cache") == first
    assert _work(caplog) == (1, 1), "neither read nor derived"

    other = artwork.prepare_artwork(source, tmp_path / "other")  # another folder is prepared there
    assert other.feed.parent == tmp_path / "other" and _work(caplog)[0] == 2

    make_image(source, 1400, mode="RGBA", noise=True)  # the producer replaces the picture
    changed = artwork.prepare_artwork(source, tmp_path / "cache")
    assert changed.feed != first.feed and _work(caplog)[1] == 3
    with Image.open(changed.feed) as feed, Image.open(first.feed) as old:
        assert feed.tobytes() != old.tobytes()
    reference = tmp_path / "same.png"
    shutil.copyfile(source, reference)
    assert changed.feed.read_bytes() == artwork.prepare_artwork(reference, tmp_path / "fresh").feed.read_bytes()

    # changed moments ago: its stat cannot vouch for it yet, so it is read again (not derived again)
    caplog.clear()
    assert artwork.prepare_artwork(source, tmp_path / "cache") == changed
    assert _work(caplog) == (1, 0)

    changed.embed.unlink()  # a derived copy removed behind our back is made again
    assert artwork.prepare_artwork(source, tmp_path / "cache") == changed and changed.embed.is_file()
