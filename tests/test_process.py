"""process_episode and `media-pipeline process`: webinars, the cache, and bad input leaving nothing."""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from media_pipeline.audio import cache, ffmpeg, process
from media_pipeline.audio.probe import probe
from media_pipeline.errors import MediaError
from media_pipeline_demo import synth

from audio_support import add_episode, files_under, independent_loudness, load, make_workspace, run_cli, stream_hash

pytestmark = pytest.mark.portability  # CI runs these with the distribution's ffmpeg too


@pytest.fixture(scope="module")
def webinar_result(tmp_path_factory):
    root = make_workspace(tmp_path_factory.mktemp("webinar"))
    source = synth.webinar(root / "webinar.mp4", 12.0, level_lufs=-27.0, size="320x180")
    add_episode(root, "001", source)
    ws, show, episode = load(root, "testi/001")
    return source, process.process_episode(ws, show, episode)


def test_webinar_video_packets_are_copied_unchanged(webinar_result) -> None:
    """Must show 2: the MP4's video stream hash equals the source's; audio on target in both files."""
    source, result = webinar_result
    video, audio = result.renditions
    assert (video.role, video.mime_type, video.path.suffix) == ("video", "video/mp4", ".mp4")
    assert (audio.role, audio.mime_type, audio.path.suffix) == ("audio", "audio/mpeg", ".mp3")
    assert stream_hash(video.path) == stream_hash(source)
    assert "SHA256=" in stream_hash(source)
    for rendition in result.renditions:
        measured = independent_loudness(rendition.path)
        # a webinar keeps at least 0.3 dB of true-peak margin under the -1 dBTP ceiling
        assert abs(measured.integrated + 16.0) <= 0.5 and measured.true_peak <= -1.3, rendition.path.name
        assert rendition.loudness.integrated == pytest.approx(measured.integrated, abs=0.15)
        assert rendition.duration == pytest.approx(12.0, abs=0.1)
    assert probe(audio.path).has_video is False
    assert result.info.has_video and not result.cached


def test_second_run_is_a_cache_hit_and_a_new_target_reprocesses(tmp_path: Path, caplog) -> None:
    """Must show 5: no audio work the second time (result and log); a changed target redoes it."""
    root = make_workspace(tmp_path / "ws", audio='formats = ["mp3", "m4a"]')
    add_episode(root, "002", synth.speech(tmp_path / "speech.flac", 8.0, level_lufs=-24.0))
    ws, show, episode = load(root, "testi/002")
    caplog.set_level(logging.INFO, logger="media_pipeline")
    first = process.process_episode(ws, show, episode)
    assert [r.path.name for r in first.renditions] == ["002.mp3", "002.m4a"]
    assert [r.mime_type for r in first.renditions] == ["audio/mpeg", "audio/mp4"]
    stamps = [r.path.stat().st_mtime_ns for r in first.renditions]
    caplog.clear()
    second = process.process_episode(ws, show, episode)
    assert second.cached and not first.cached
    assert "cache hit: testi/002" in caplog.text
    assert "audio work" not in caplog.text and "analysed" not in caplog.text
    assert second.renditions == first.renditions
    assert [r.path.stat().st_mtime_ns for r in second.renditions] == stamps

    (root / "feeds" / "testi.toml").write_text(
        (root / "feeds" / "testi.toml").read_text().replace("[audio]", "[audio]\ntarget_lufs = -19.0"))
    ws, show, episode = load(root, "testi/002")
    caplog.clear()
    third = process.process_episode(ws, show, episode)
    assert not third.cached
    assert "audio work: testi/002" in caplog.text
    assert third.renditions[0].path.parent != first.renditions[0].path.parent
    assert abs(independent_loudness(third.renditions[0].path).integrated + 19.0) <= 0.5


def test_changed_source_reprocesses(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws")
    source = synth.speech(tmp_path / "speech.wav", 5.0, level_lufs=-20.0)
    add_episode(root, "003", source)
    ws, show, episode = load(root, "testi/003")
    fractions: list[float] = []
    assert not process.process_episode(ws, show, episode, progress=fractions.append).cached
    assert fractions and fractions == sorted(fractions) and fractions[-1] == 1.0 and fractions[0] < 0.5
    synth.speech(source, 5.0, level_lufs=-20.0, seed=2)
    assert not process.process_episode(ws, show, episode).cached
    assert process.process_episode(ws, show, episode).cached


def _bad_inputs(folder: Path) -> dict[str, tuple[Path, str]]:
    folder.mkdir(parents=True, exist_ok=True)
    corrupt = folder / "corrupt.mp3"
    corrupt.write_bytes(b"ID3" + bytes(range(256)) * 40)
    empty = folder / "empty.wav"
    empty.write_bytes(b"")
    no_audio = folder / "no-audio.mp4"
    ffmpeg.run(["-f", "lavfi", "-i", "testsrc2=size=160x90:duration=2", "-c:v", "libx264", "-preset", "ultrafast",
                "-y", no_audio], what=no_audio)
    silence = folder / "silence.flac"
    ffmpeg.run(["-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo:d=4", "-c:a", "flac", "-y", silence], what=silence)
    unsupported = folder / "slides.pdf"
    unsupported.write_bytes(b"%PDF-1.4\n" + b"0" * 2000)
    return {
        "corrupt": (corrupt, "corrupt or unreadable MP3 data"),
        "empty": (empty, "empty file"),
        "no-audio": (no_audio, "no audio stream"),
        "silence": (silence, "no audible programme"),
        "unsupported": (unsupported, "unsupported format"),
    }


def test_bad_inputs_fail_with_one_line_and_leave_nothing(tmp_path: Path) -> None:
    """Must show 4, through the API: a MediaError naming the file and the reason, an empty cache."""
    root = make_workspace(tmp_path / "ws")
    for name, (path, reason) in _bad_inputs(tmp_path / "media").items():
        add_episode(root, name, path)
        ws, show, episode = load(root, f"testi/{name}")
        with pytest.raises(MediaError) as caught:
            process.process_episode(ws, show, episode)
        assert str(caught.value).startswith(f"{path}: ") and reason in str(caught.value)
        assert "\n" not in str(caught.value)
        assert files_under(ws.build_dir) == [], name
        assert not any(p.name.endswith(".tmp") for p in ws.build_dir.rglob("*")) if ws.build_dir.exists() else True


def test_bad_inputs_through_the_commands(tmp_path: Path) -> None:
    """Must show 4, on the command line: exit 1 and one line naming the file and the reason."""
    root = make_workspace(tmp_path / "ws")
    bad = _bad_inputs(tmp_path / "media")
    for name, (path, reason) in bad.items():
        add_episode(root, name, path)
    for name, (path, reason) in bad.items():
        done = run_cli(root, "process", f"testi/{name}")
        assert done.returncode == 1, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0] and reason in lines[0], done.stderr
        assert done.stdout == ""
        loudness = run_cli(root, "loudness", str(path))
        assert loudness.returncode == 1 and len(loudness.stderr.strip().splitlines()) == 1
        assert str(path) in loudness.stderr and reason in loudness.stderr
    assert files_under(root / ".media-pipeline") == []


def test_process_command_prints_one_line_per_episode_and_goes_on_past_a_failure(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws")
    add_episode(root, "hyva", synth.speech(tmp_path / "good.wav", 5.0, level_lufs=-22.0))
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    add_episode(root, "tyhja", empty)
    done = run_cli(root, "process", "testi/tyhja", str(root / "episodes" / "testi" / "hyva.md"))
    assert done.returncode == 1
    assert done.stdout.count("\n") == 1 and done.stdout.startswith("testi/hyva: processed: hyva.mp3 ")
    assert re.search(r"hyva\.mp3 -1[56]\.\d LUFS -\d+\.\d dBTP in \.media-pipeline/cache/testi/hyva-[0-9a-f]{20}$",
                     done.stdout.strip()), done.stdout
    again = run_cli(root, "-v", "process", "testi/hyva")
    assert again.returncode == 0 and again.stdout.startswith("testi/hyva: cached: ")
    assert "cache hit: testi/hyva" in again.stderr


def test_commands_have_help_with_an_example(tmp_path: Path) -> None:
    for command in ("process", "loudness"):
        done = run_cli(tmp_path, command, "--help")
        assert done.returncode == 0 and "Example:" in done.stdout and "media-pipeline " + command in done.stdout


def test_staging_left_by_a_killed_run_is_swept_away(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws")
    add_episode(root, "006", synth.speech(tmp_path / "speech.wav", 4.0, level_lufs=-20.0))
    ws, show, episode = load(root, "testi/006")
    first = process.process_episode(ws, show, episode)
    entry = first.renditions[0].path.parent
    shutil.rmtree(entry)
    stale = entry.parent / f".{entry.name}.killed.tmp"
    stale.mkdir()
    (stale / "006.mp3").write_bytes(b"half a file")
    os.utime(stale, (time.time() - 2 * 86400,) * 2)
    assert not process.process_episode(ws, show, episode).cached
    assert not stale.exists() and [p.name for p in entry.parent.iterdir() if p.name != cache.IN_USE] == [entry.name]


def test_a_result_outside_tolerance_leaves_no_encoded_file_behind(tmp_path: Path) -> None:
    """The renditions were written before verification refused them: none may stay in the cache."""
    root = make_workspace(tmp_path / "ws", audio="target_lufs = -10.0\ntrue_peak = -30.0")
    add_episode(root, "004", synth.speech(tmp_path / "speech.wav", 6.0, level_lufs=-20.0))
    ws, show, episode = load(root, "testi/004")
    with pytest.raises(MediaError, match=r"speech\.wav: 004\.mp3 measured .* outside -10 ± 0\.5 LU"):
        process.process_episode(ws, show, episode)
    assert files_under(ws.build_dir) == []
    assert [p.name for p in (ws.build_dir / "testi").iterdir()] == []


@pytest.mark.parametrize("suffix, video_codec, audio_codec", [(".mov", "copy", "copy"), (".mkv", "copy", "copy")])
def test_other_video_containers_give_an_mp4_with_the_same_picture(tmp_path: Path, suffix: str, video_codec: str,
                                                                  audio_codec: str) -> None:
    mp4 = synth.webinar(tmp_path / "source.mp4", 4.0, level_lufs=-24.0, size="160x90")
    source = tmp_path / f"webinar{suffix}"
    extra = ["-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k"] if video_codec != "copy" else []
    ffmpeg.run(["-i", mp4, "-c:v", video_codec, *extra, "-c:a", audio_codec, "-y", source], what=source)
    root = make_workspace(tmp_path / "ws")
    add_episode(root, "005", source)
    ws, show, episode = load(root, "testi/005")
    result = process.process_episode(ws, show, episode)
    assert [r.path.name for r in result.renditions] == ["005.mp4", "005.mp3"]
    assert stream_hash(result.renditions[0].path) == stream_hash(source)
    for rendition in result.renditions:
        measured = independent_loudness(rendition.path)
        assert abs(measured.integrated + 16.0) <= 0.5 and measured.true_peak <= -1.0


@pytest.mark.parametrize("video_codec", ["libvpx-vp9", "libvpx"])
def test_webm_video_is_reencoded_to_h264_in_the_mp4(tmp_path: Path, video_codec: str) -> None:
    """VP9 and VP8 play in browsers but not in podcast apps (Apple: H.264 or HEVC in MP4)."""
    mp4 = synth.webinar(tmp_path / "source.mp4", 4.0, level_lufs=-24.0, size="160x90")
    source = tmp_path / "webinar.webm"
    ffmpeg.run(["-i", mp4, "-c:v", video_codec, "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k",
                "-c:a", "libopus", "-y", source], what=source)
    root = make_workspace(tmp_path / "ws")
    add_episode(root, "005", source)
    ws, show, episode = load(root, "testi/005")
    result = process.process_episode(ws, show, episode)
    assert [r.path.name for r in result.renditions] == ["005.mp4", "005.mp3"]
    video = probe(result.renditions[0].path).video
    assert video.codec == "h264" and (video.width, video.height) == (160, 90)
    for rendition in result.renditions:
        measured = independent_loudness(rendition.path)
        assert abs(measured.integrated + 16.0) <= 0.5 and measured.true_peak <= -1.0
