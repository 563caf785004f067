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


def _shifted(source: Path, out: Path, *, sound_after: float = 0.0, container_start: float = 0.0) -> Path:
    """`source` again (picture copied, sound re-encoded as AAC), its sound starting `sound_after`
    seconds after the picture, in a container whose timeline starts at `container_start`."""
    ffmpeg.run(["-i", source, "-itsoffset", f"{sound_after}", "-i", source, "-map", "0:v:0", "-map", "1:a:0",
                "-c:v", "copy", "-c:a", "aac", "-b:a", "128k", "-output_ts_offset", f"{container_start}", "-y", out],
               what=out)
    return out


def _first_times(path: Path) -> dict[str, float]:
    """When the picture and the sound of `path` start (its first packets, as a player reads them)."""
    found = {}
    for kind in ("v", "a"):
        if kind == "v" and path.suffix == ".mp3":
            continue
        out = ffmpeg.run(["-i", path, "-map", f"0:{kind}:0", "-c", "copy", "-f", "framemd5", "-"], what=path,
                         capture_stdout=True).stdout.decode()
        first = next(line for line in out.splitlines() if line and not line.startswith("#"))
        timebase = next(line for line in out.splitlines() if line.startswith("#tb 0:")).split(": ")[1].split("/")
        found[kind] = int(first.split(",")[2]) * int(timebase[0]) / int(timebase[1])
    return found


@pytest.mark.parametrize("case", ["webinar", "sound after the picture", "container starting at 3.3 s",
                                  "podcast levelled and trimmed", "podcast in WAV"])
def test_the_encode_decodes_inside_the_graph_only_where_that_gives_the_very_same_files(
        tmp_path: Path, monkeypatch, started, case: str) -> None:
    """The encode's own compressed sound is decoded inside its filter graph where each container's
    timeline starts at zero: the files are then the ones the usual reading writes, byte for byte,
    and a sound that starts after the picture keeps its delay. Where the timeline starts elsewhere,
    `-i` moves every stream by it and the graph's decoder would not: that recording is read the
    usual way, and picture and sound keep their distance. So is a WAV (decoding it is a copy)."""
    from media_pipeline.audio import encode
    from media_pipeline.audio.process import render
    from media_pipeline.audio.probe import probe
    from media_pipeline.audio.encode import Output

    settings = AudioSettings()
    kinds = ("mp4", "mp3")
    if case.startswith("podcast"):
        settings = AudioSettings(channels=1, max_loudness_range=8.0, trim_silence=True)
        source = synth.adversarial(tmp_path / "talk.wav", 40.0, channels=1)
        if case == "podcast levelled and trimmed":  # as a phone records it: AAC in M4A
            ffmpeg.run(["-i", source, "-c:a", "aac", "-b:a", "128k", "-y", tmp_path / "talk.m4a"], what=source)
            source = tmp_path / "talk.m4a"
        kinds = ("mp3",)
    else:
        source = synth.webinar(tmp_path / "made.mp4", 8.0, level_lufs=-30.0)
        if case == "sound after the picture":
            source = _shifted(source, tmp_path / "late.mp4", sound_after=0.7)
        elif case.startswith("container"):
            source = _shifted(source, tmp_path / "offset.mkv", container_start=3.3)
    info = probe(source)
    written = {}
    for inside in (True, False):
        if not inside:
            monkeypatch.setattr(encode, "graph_sources", lambda the_plan: None)
        out = tmp_path / ("inside" if inside else "usual")
        out.mkdir()
        outputs = tuple(Output(out / f"result.{kind}", kind, settings.bitrate_kbps,
                               info.video.codec if kind == "mp4" and info.video else None) for kind in kinds)
        del started[:]
        render(info, settings, outputs, video=info.has_video)
        encodes = [argv for argv, _ in started if any(c in argv for c in ("aac", "libmp3lame")) and "-filter_complex" in argv]
        assert len(encodes) == 1
        in_graph = "amovie=" in encodes[0][encodes[0].index("-filter_complex") + 1]
        assert in_graph == (inside and case in ("webinar", "sound after the picture", "podcast levelled and trimmed"))
        written[inside] = [o.path.read_bytes() for o in outputs]
        if "mp4" in kinds:
            given, times = _first_times(source), _first_times(outputs[0].path)
            assert times["a"] - times["v"] == pytest.approx(given["a"] - given["v"], abs=0.025), (given, times)
            if case == "sound after the picture":
                assert times["a"] - times["v"] > 0.6
    assert written[True] == written[False]
