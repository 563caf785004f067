"""probe: what ffmpeg -i finds in real generated media, and the plain refusals of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from media_pipeline.audio import ffmpeg
from media_pipeline.audio.probe import probe
from media_pipeline.errors import MediaError
from media_pipeline_demo import synth

pytestmark = pytest.mark.portability  # CI runs these with the distribution's ffmpeg too


@pytest.mark.parametrize("suffix, codec", [(".wav", "pcm_s16le"), (".flac", "flac"), (".mp3", "mp3"),
                                           (".m4a", "aac"), (".opus", "opus")])
def test_audio_formats_are_read_with_their_facts(tmp_path: Path, suffix: str, codec: str) -> None:
    path = synth.speech(tmp_path / f"speech{suffix}", 3.0, channels=1)
    info = probe(path)
    assert info.audio is not None and info.audio.codec == codec
    assert info.audio.channels == 1 and info.audio.sample_rate == 48000
    assert info.duration == pytest.approx(3.0, abs=0.1)
    assert not info.has_video


def test_webinar_has_video_and_audio(tmp_path: Path) -> None:
    info = probe(synth.webinar(tmp_path / "webinar.mp4", 2.0, size="320x180"))
    assert info.has_video and info.video.codec == "h264" and (info.video.width, info.video.height) == (320, 180)
    assert info.audio.codec == "aac" and info.audio.channels == 2
    assert info.container.startswith("mov,mp4")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match=r"missing\.wav: file not found$"):
        probe(tmp_path / "missing.wav")


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.mp3").write_bytes(b"")
    with pytest.raises(MediaError, match=r"empty\.mp3: empty file"):
        probe(tmp_path / "empty.mp3")


def test_corrupt_data(tmp_path: Path) -> None:
    path = tmp_path / "broken.m4a"
    path.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(MediaError, match=r"broken\.m4a: corrupt or unreadable M4A data"):
        probe(path)


def test_unsupported_format_by_content(tmp_path: Path) -> None:
    image = tmp_path / "cover.png"
    ffmpeg.run(["-f", "lavfi", "-i", "testsrc=size=64x64:duration=1", "-frames:v", "1", "-y", image], what=image)
    with pytest.raises(MediaError, match=r"cover\.png: unsupported format 'png_pipe'"):
        probe(image)


def test_unsupported_format_by_name(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("Tämä ei ole äänitiedosto.\n" * 20, encoding="utf-8")
    with pytest.raises(MediaError, match=r"notes\.txt: unsupported format \(\.txt\)"):
        probe(text)


def test_no_audio_stream(tmp_path: Path) -> None:
    silent_video = tmp_path / "slides.mp4"
    ffmpeg.run(["-f", "lavfi", "-i", "testsrc2=size=160x90:duration=1", "-c:v", "libx264", "-preset", "ultrafast",
                "-y", silent_video], what=silent_video)
    with pytest.raises(MediaError, match=r"slides\.mp4: no audio stream \(found video\)"):
        probe(silent_video)
