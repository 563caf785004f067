"""Webinar recordings as they come from the wild, through `media-pipeline publish`: a variable
frame rate, a portrait phone video, an MP4 with no picture, a still picture, a 4K export and
picture and sound of different lengths. Each publishes correctly or is refused in one line naming
the file; the media are made with ffmpeg's lavfi sources, a few seconds long."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from lxml import etree

from publish_support import run_cli
from video_support import ffprobe, integrated_loudness, moov_before_mdat, slide_webinar

from media_pipeline_demo import synth

PC = "https://podcastindex.org/namespace/1.0"


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", *args], check=True)


def _speech(folder: Path, seconds: float) -> Path:
    return synth.speech(folder / f"speech-{seconds:g}.wav", seconds, level_lufs=-24.0)


def _video(path: Path, picture: str, seconds: float, *extra: str) -> Path:
    """An H.264/AAC MP4 of the lavfi `picture` with speech under it."""
    audio = _speech(path.parent, seconds)
    _ffmpeg("-f", "lavfi", "-i", picture, "-i", str(audio), "-map", "0:v", "-map", "1:a", "-c:v", "libx264",
            "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", *extra, "-y", str(path))
    return path


def _publish(workspace, make) -> tuple:
    slide_webinar(workspace, make=make)
    run = run_cli(workspace.root, "publish", "--all")
    public = workspace.root / "public" / "webinaari"
    return run, public


def _stream(path: Path, kind: str) -> dict | None:
    return next((s for s in ffprobe(path)["streams"] if s["codec_type"] == kind), None)


def _alternates(public: Path) -> dict[str, etree._Element]:
    tree = etree.fromstring((public / "feed.xml").read_bytes())
    return {a.find(f"{{{PC}}}source").get("uri").rsplit("/", 1)[-1]: a
            for a in tree.findall(f".//{{{PC}}}alternateEnclosure")}


def _one_line(err: str, name: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert any(name in line for line in lines), err
    assert "Traceback" not in err


def test_a_variable_frame_rate_recording_publishes_with_a_constant_rate_in_its_renditions(workspace):
    def make(path: Path) -> None:
        # 30 fps with every other second thinned to 5 fps: a meeting tool sending frames as the screen changes
        _video(path, "testsrc2=s=1280x720:r=30:d=6,select='lt(mod(t\\,2)\\,1)+not(mod(n\\,6))'", 6.0,
               "-fps_mode", "vfr")

    run, public = _publish(workspace, make)
    assert run.code == 0, run.err
    assert set(_alternates(public)) == {"01.mp4", "01.640x360.mp4", "01.mp3"}
    small = _stream(public / "01.640x360.mp4", "video")
    assert (small["width"], small["height"]) == (640, 360)
    assert small["avg_frame_rate"] == small["r_frame_rate"]  # constant: each frame lasts as long
    assert abs(float(ffprobe(public / "01.640x360.mp4")["format"]["duration"]) - 6.0) < 0.3
    assert abs(integrated_loudness(public / "01.640x360.mp4") - -16.0) <= 0.5


def test_a_portrait_phone_video_gets_portrait_renditions_and_a_16_9_poster(workspace):
    def make(path: Path) -> None:
        # 720 wide, 1280 high, as a phone's screen recording or an edited phone video comes
        _video(path, "testsrc2=s=720x1280:r=25:d=4", 4.0)

    run, public = _publish(workspace, make)
    assert run.code == 0, run.err
    alternates = _alternates(public)
    assert "01.360x640.mp4" in alternates and alternates["01.360x640.mp4"].get("height") == "640"
    small = _stream(public / "01.360x640.mp4", "video")
    assert (small["width"], small["height"]) == (360, 640)
    assert moov_before_mdat(public / "01.360x640.mp4")
    poster = _stream(public / "01.poster.jpg", "video")
    assert poster["width"] * 9 == poster["height"] * 16


def test_an_mp4_without_a_picture_publishes_as_audio_and_chapters_refuse_it_in_one_line(workspace):
    def make(path: Path) -> None:
        _ffmpeg("-i", str(_speech(path.parent, 4.0)), "-c:a", "aac", "-y", str(path))

    run, public = _publish(workspace, make)
    assert run.code == 0, run.err
    item = etree.fromstring((public / "feed.xml").read_bytes()).find(".//item/enclosure")
    assert item.get("type") == "audio/mpeg"
    assert not list(public.glob("01.*x*.mp4")) and not (public / "01.poster.jpg").exists()
    refused = run_cli(workspace.root, "chapters", "webinaari/01")
    assert refused.code == 1
    _one_line(refused.err, "01.mp4")
    assert "no video stream" in refused.err


def test_a_single_still_frame_as_the_picture_publishes_with_that_frame_as_the_poster(workspace):
    def make(path: Path) -> None:
        # a slide exported as one frame under the whole recording (the picture lasts 1/25 s)
        _video(path, "testsrc2=s=1280x720:r=25,trim=end_frame=1", 5.0)

    run, public = _publish(workspace, make)
    assert run.code == 0, run.err
    assert _stream(public / "01.mp4", "video") is not None
    poster = _stream(public / "01.poster.jpg", "video")
    assert (poster["width"], poster["height"]) == (1280, 720)
    assert abs(integrated_loudness(public / "01.mp4") - -16.0) <= 0.5


def test_a_still_image_file_as_the_source_is_refused_in_one_line(workspace):
    def make(path: Path) -> None:
        _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=1280x720", "-frames:v", "1", "-f", "image2", "-c:v", "png",
                "-y", str(path))

    run, public = _publish(workspace, make)
    assert run.code == 1
    _one_line(run.err, "01.mp4")
    assert not (public / "01.mp4").exists() and not (public / "01.mp3").exists()


@pytest.mark.slow
def test_a_4k_export_is_brought_down_to_1080p_for_podcast_apps(workspace):
    def make(path: Path) -> None:
        _video(path, "testsrc2=s=3840x2160:r=25:d=3", 3.0)

    run, public = _publish(workspace, make)
    assert run.code == 0, run.err
    primary = _stream(public / "01.mp4", "video")
    assert (primary["codec_name"], primary["width"], primary["height"]) == ("h264", 1920, 1080)
    assert set(_alternates(public)) == {"01.mp4", "01.1280x720.mp4", "01.640x360.mp4", "01.mp3"}
    assert abs(integrated_loudness(public / "01.mp4") - -16.0) <= 0.5


@pytest.mark.parametrize("picture_seconds", [4.0, 9.0])
def test_picture_and_sound_of_different_lengths_publish_whole_with_the_sound_on_target(workspace, picture_seconds):
    """A picture shorter than the sound holds its last frame; one longer is kept with silence under it
    (nothing recorded is cut): the MP4 lasts as long as the longer, the MP3 as the sound."""
    def make(path: Path) -> None:
        synth.slides_webinar(path, 6.0, (2.0,), size="1280x720", video_seconds=picture_seconds)

    run, public = _publish(workspace, make)
    assert run.code == 0, run.err
    duration = float(etree.fromstring((public / "feed.xml").read_bytes()).findtext(
        ".//{http://www.itunes.com/dtds/podcast-1.0.dtd}duration"))
    longer = max(6.0, picture_seconds)
    assert abs(duration - longer) <= 0.5
    for name in ("01.mp4", "01.640x360.mp4"):
        info = ffprobe(public / name)
        assert abs(float(info["format"]["duration"]) - longer) < 0.5, (name, info["format"]["duration"])
        assert abs(integrated_loudness(public / name) - -16.0) <= 0.5
    assert abs(float(ffprobe(public / "01.mp3")["format"]["duration"]) - 6.0) < 0.2
