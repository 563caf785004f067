"""The demo: its recordings are generated as the episodes name them, and its metadata fits them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from media_pipeline.audio import ffmpeg, loudness
from media_pipeline.config.load import load_catalog, load_workspace
from media_pipeline_demo import demo

from config_support import REPO, copy_workspace, write_episode

_STREAM = re.compile(r"Stream #0:\d+\S*: (Audio|Video): (\w+)(.*)")
_DURATION = re.compile(r"Duration: (\d+):(\d+):([\d.]+)")


def streams(path: Path) -> tuple[list[tuple[str, str, str]], float]:
    """(kind, codec, details) of each stream and the duration, as ffmpeg itself reads the file."""
    stderr = ffmpeg.run(["-i", path, "-f", "null", "-"], what=path).stderr.split("Output #0")[0]
    h, m, s = _DURATION.search(stderr).groups()
    return [m.groups() for m in map(_STREAM.search, stderr.splitlines()) if m], int(h) * 3600 + int(m) * 60 + float(s)


def cue_ends(transcript: Path) -> list[float]:
    """End times of the cues of an SRT or WebVTT file, in seconds."""
    times = re.findall(r"--> (\d+):(\d+):(\d+)[,.](\d+)", transcript.read_text(encoding="utf-8"))
    return [int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000 for h, m, s, ms in times]


@pytest.fixture
def small_ws(tmp_path: Path):
    """A workspace with one show and three episodes: a new audio source, a webinar, one elsewhere."""
    root = tmp_path / "ws"
    (root / "feeds").mkdir(parents=True)
    (root / "media-pipeline.toml").write_text('timezone = "Europe/Helsinki"\n')
    (root / "feeds" / "testi.toml").write_text('title = "Testi"\n')
    write_episode(root, "testi", "001", "title: A\nsource: media/testi/001.mp3")
    write_episode(root, "testi", "002", "title: B\nsource: media/testi/002.mp4")
    write_episode(root, "testi", "003", "title: C\nsource: /srv/recordings/003.wav")
    write_episode(root, "testi", "004", "title: D\nsource: media/../../outside.wav")
    return load_workspace(root, environ={})


def test_every_demo_episode_has_a_recipe_and_every_recipe_an_episode():
    ws = load_workspace(REPO, environ={})
    assert demo.demo_sources(ws) == list(demo.RECIPES)


def test_recipes_are_20_to_60_seconds_and_cover_every_chapter_and_cue(tmp_path):
    ws = load_workspace(copy_workspace(tmp_path / "ws"), environ={})
    catalog, problems = load_catalog(ws)
    assert problems == []
    formats = set()
    for episodes in catalog.episodes.values():
        for episode in episodes:
            source = episode.source.relative_to(ws.root).as_posix()
            recipe = demo.RECIPES[source]
            assert 20 <= recipe.seconds <= 60
            assert max(c.start for c in episode.chapters) < recipe.seconds - 5
            assert all(c.end is None or c.end <= recipe.seconds for c in episode.chapters)
            assert 0 < max(cue_ends(episode.transcript)) <= recipe.seconds
            formats.add(episode.source.suffix)
    assert formats == {".wav", ".flac", ".mp3", ".mp4"}
    assert len({r.level_lufs for r in demo.RECIPES.values()}) == len(demo.RECIPES)  # varied on purpose


def test_generate_writes_each_source_under_media_with_the_expected_streams(small_ws, capsys):
    fractions: list[float] = []
    written = demo.generate_demo_media(small_ws, progress=fractions.append)
    root = small_ws.root
    assert written == [root / "media/testi/001.mp3", root / "media/testi/002.mp4"]
    assert fractions == [0.5, 1.0]
    assert not (root / "outside.wav").exists() and not (root.parent / "outside.wav").exists()
    assert sorted(p.name for p in (root / "media/testi").iterdir()) == ["001.mp3", "002.mp4"]  # no temp files left

    audio, seconds = streams(root / "media/testi/001.mp3")
    assert [(kind, codec) for kind, codec, _ in audio] == [("Audio", "mp3")]
    assert seconds == pytest.approx(demo.default_recipe("media/testi/001.mp3").seconds, abs=0.2)
    level = loudness.measure(root / "media/testi/001.mp3")
    assert level.integrated == pytest.approx(-23.0, abs=1.0)

    video, seconds = streams(root / "media/testi/002.mp4")
    assert sorted((kind, codec) for kind, codec, _ in video) == [("Audio", "aac"), ("Video", "h264")]
    assert seconds == pytest.approx(30, abs=0.3)

    # a second run keeps what exists; force rewrites
    before = (root / "media/testi/001.mp3").stat().st_mtime_ns
    assert demo.generate_demo_media(small_ws) == []
    assert (root / "media/testi/001.mp3").stat().st_mtime_ns == before
    (root / "media/testi/002.mp4").unlink()
    assert demo.main(["--root", str(root)]) == 0
    assert capsys.readouterr().out == "media/testi/002.mp4\n"


def test_the_demo_recording_formats_and_levels(tmp_path, monkeypatch):
    """The demo's variety, checked on one short file per kind: mono WAV and stereo FLAC speech."""
    root = tmp_path / "ws"
    (root / "feeds").mkdir(parents=True)
    (root / "feeds" / "t.toml").touch()
    write_episode(root, "t", "1", "source: media/t/1.wav")
    write_episode(root, "t", "2", "source: media/t/2.flac")
    ws = load_workspace(root, environ={})
    recipes = {"media/t/1.wav": demo.Recipe(seconds=8, level_lufs=-31, channels=1, seed=3),
               "media/t/2.flac": demo.Recipe(seconds=8, level_lufs=-22, channels=2, seed=2)}
    for source, recipe in recipes.items():  # short versions of the demo's own recipes
        monkeypatch.setitem(demo.RECIPES, source, recipe)
    assert demo.generate_demo_media(ws) == [root / source for source in recipes]
    for source, recipe in recipes.items():
        found, seconds = streams(root / source)
        kind, codec, details = found[0]
        assert (kind, codec) == ("Audio", "pcm_s16le" if source.endswith(".wav") else "flac")
        assert ("mono" if recipe.channels == 1 else "stereo") in details
        assert seconds == pytest.approx(recipe.seconds, abs=0.1)
        assert loudness.measure(root / source).integrated == pytest.approx(recipe.level_lufs, abs=0.5)


def test_demo_module_runs_as_a_script_and_reports_a_missing_workspace(tmp_path):
    result = subprocess.run([sys.executable, "-m", "media_pipeline_demo.demo", "--root", str(tmp_path)],
                            capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 0 and result.stdout == ""  # an empty folder: nothing to generate


# -- artwork -----------------------------------------------------------------------------------


@pytest.mark.parametrize("show", ["ihmiskeskeisyys", "tekoalywebinaarit"])
def test_committed_artwork_meets_apple_rules(show):
    path = REPO / "artwork" / f"{show}.jpg"
    with Image.open(path) as image:
        assert image.format == "JPEG" and image.mode == "RGB"
        assert image.width == image.height and 1400 <= image.width <= 3000
    assert path.stat().st_size < 150 * 1024


def test_make_artwork_is_deterministic(tmp_path):
    runs = []
    for n in range(2):
        out = tmp_path / str(n)
        subprocess.run([sys.executable, str(REPO / "scripts" / "make-artwork"), "--out", str(out)],
                       check=True, capture_output=True, timeout=120)
        runs.append({p.name: p.read_bytes() for p in out.iterdir()})
    assert set(runs[0]) == {"ihmiskeskeisyys.jpg", "tekoalywebinaarit.jpg"}
    assert runs[0] == runs[1]
