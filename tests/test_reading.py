"""How measuring passes read their input (`audio/reading.py`): decoded inside the filter graph on
ffmpeg 7 and later. What it must keep: the very samples the usual reading gives, exact halves,
any file name, and a loud failure (never a short measurement) where the decoder refuses a packet."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from media_pipeline.audio import analysis, ffmpeg, loudness, reading
from media_pipeline.errors import FFmpegError
from media_pipeline.model import AudioSettings
from media_pipeline_demo import synth

pytestmark = pytest.mark.skipif(not reading.in_graph(), reason="this ffmpeg reads measuring passes the usual way")


def _samples(graph: str) -> int:
    """How many samples (mono, 48 kHz) a graph that starts with a source gives."""
    out = ffmpeg.run(["-filter_complex", f"{graph},aformat=sample_fmts=s16:channel_layouts=mono,aresample=48000[m]",
                      "-map", "[m]", "-f", "s16le", "-"], what="test", capture_stdout=True).stdout
    return len(out) // 2


@pytest.mark.parametrize("kind", ["wav", "mp4"])
def test_two_halves_read_every_sample_once(tmp_path: Path, kind: str) -> None:
    """The seek of a half lands on a packet before its start (AAC: up to 21 ms); the trim after it
    cuts exactly, so the halves add up to the whole, sample for sample."""
    path = tmp_path / f"talk.{kind}"
    if kind == "wav":
        synth.speech(path, 10.0)
    else:
        synth.webinar(path, 10.0)
    whole = _samples(reading.source(path))
    first, second = _samples(reading.source(path, end=4.321)), _samples(reading.source(path, start=4.321))
    assert first == round(4.321 * 48000)
    assert first + second == whole


def test_a_file_name_with_the_graph_s_special_characters_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "Jakso 1: 'Tekoäly', [osa 2]; kysymyksiä"
    folder.mkdir()
    odd = synth.speech(folder / "puhe, 1.wav", 8.0, level_lufs=-24.0)
    measured = analysis.analyse(odd, AudioSettings())
    assert measured.loudness.integrated == pytest.approx(loudness.measure(odd).integrated, abs=0.15)


def test_the_analysis_inside_the_graph_gives_the_usual_numbers(tmp_path: Path, monkeypatch) -> None:
    source = synth.webinar(tmp_path / "talk.mp4", 12.0, level_lufs=-27.0)
    settings = AudioSettings(max_loudness_range=8.0)
    inside = analysis.analyse(source, settings, level=True)
    monkeypatch.setattr(analysis, "in_graph", lambda: False)
    usual = analysis.analyse(source, settings, level=True)
    assert inside.loudness == usual.loudness
    assert inside.levelling == usual.levelling


def test_a_packet_the_decoder_refuses_stops_the_run_loudly(tmp_path: Path) -> None:
    """Inside the graph a decoding failure ends the run with an error: the reading that skips bad
    packets is then the analysis's fallback, and a verifier's file is measured directly."""
    source = synth.webinar(tmp_path / "talk.mp4", 20.0)
    data = bytearray(source.read_bytes())
    for offset in range(len(data) // 3, 2 * len(data) // 3, 4096):
        data[offset:offset + 64] = bytes(range(64))
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(data)
    usual = subprocess.run([ffmpeg.binary(), "-v", "error", "-i", str(damaged), "-f", "null", "-"],
                           capture_output=True, text=True)
    assert usual.returncode == 0  # the usual reading decodes past the damage
    with pytest.raises(FFmpegError):
        ffmpeg.run(["-filter_complex", f"{reading.source(damaged)},ebur128[m]", "-map", "[m]", "-f", "null", "-"],
                   what=damaged)
    found = analysis.analyse(damaged, AudioSettings())
    assert found.damage
