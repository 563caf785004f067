"""loudness: BS.1770-4 measurement against known generated levels, and the `loudness` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from media_pipeline.audio import ffmpeg, loudness
from media_pipeline.errors import MediaError
from media_pipeline_demo import synth

from audio_support import independent_loudness, run_cli

pytestmark = pytest.mark.portability  # CI runs these with the distribution's ffmpeg too


@pytest.fixture(scope="module")
def speech_file(tmp_path_factory) -> Path:
    return synth.speech(tmp_path_factory.mktemp("loudness") / "speech.flac", 10.0, level_lufs=-23.0)


def test_measure_matches_the_level_asked_for_and_an_independent_reading(speech_file: Path) -> None:
    measured = loudness.measure(speech_file)
    assert measured.integrated == pytest.approx(-23.0, abs=0.3)
    independent = independent_loudness(speech_file)
    assert (measured.integrated, measured.lra, measured.true_peak) == (
        independent.integrated, independent.lra, independent.true_peak)
    assert measured.threshold is not None and measured.threshold < measured.integrated


def test_a_sine_at_known_level_reads_as_bs1770_says(tmp_path: Path) -> None:
    """A 997 Hz sine peaking at -20 dBFS in both channels reads -20 LUFS (the BS.1770-4 reference)."""
    sine = tmp_path / "sine.wav"
    # lavfi's sine has amplitude 1/8 (-18.06 dBFS), so -1.94 dB brings its peaks to -20 dBFS
    ffmpeg.run(["-f", "lavfi", "-i", "sine=frequency=997:sample_rate=48000:duration=5", "-af",
                "volume=-1.94dB,pan=stereo|c0=c0|c1=c0", "-c:a", "pcm_f32le", "-y", sine], what=sine)
    measured = loudness.measure(sine)
    assert measured.integrated == pytest.approx(-20.0, abs=0.1)
    assert measured.true_peak == pytest.approx(-20.0, abs=0.2)
    assert measured.lra == pytest.approx(0.0, abs=0.1)


def test_sample_peak_mode_reads_sample_peaks(speech_file: Path) -> None:
    true_peak = loudness.measure(speech_file).true_peak
    sample_peak = loudness.measure(speech_file, peak="sample").true_peak
    assert sample_peak <= true_peak + 0.05


def test_silence_has_no_measurable_loudness(tmp_path: Path) -> None:
    silence = tmp_path / "silence.wav"
    ffmpeg.run(["-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono:d=3", "-c:a", "pcm_s16le", "-y", silence],
               what=silence)
    with pytest.raises(MediaError, match=r"silence\.wav: no audible programme"):
        loudness.measure(silence)


def test_parse_summary_refuses_output_without_summary() -> None:
    with pytest.raises(MediaError, match=r"x\.wav: could not measure loudness"):
        loudness.parse_summary("nothing useful here", "x.wav")


def _summary(name: str, integrated: float, peak: float, *, interrupted_by: str = "") -> str:
    """ebur128's summary as ffmpeg logs it: two writes, a prefix wherever a line was ended."""
    prefix = f"[ebur128@{name} @ 0x7fc220018b80] "
    first = (f"{prefix}Summary:\n\n  Integrated loudness:\n    I:         {integrated:5.1f} LUFS\n"
             f"    Threshold: -25.8 LUFS\n\n  Loudness range:\n    LRA:        3.0 LU\n"
             f"    Threshold: -35.8 LUFS\n    LRA low:   -17.5 LUFS\n    LRA high:  -14.5 LUFS")
    rest = f"\n\n  Sample peak:\n    Peak:      {peak:5.1f} dBFS\n"
    if interrupted_by:  # another thread's output ends the line, so ffmpeg prints the prefix again
        return f"{first}{interrupted_by}\n{prefix}{rest}"
    return first + rest


def test_named_summaries_are_read_whole_when_other_output_interrupts_them() -> None:
    """A status line between a summary's two writes once split one in CI: both halves count."""
    stderr = (_summary("m0", -16.2, -2.5)
              + _summary("m1", -15.8, -1.9, interrupted_by="size=N/A time=00:00:12.00 speed= 156x    \r")
              + "[out#0/null @ 0x55] video:0KiB audio:4500KiB\n")
    found = loudness.parse_named_summaries(stderr, ["m0", "m1"], "x.wav")
    assert (found["m0"].integrated, found["m0"].true_peak, found["m0"].lra) == (-16.2, -2.5, 3.0)
    assert (found["m1"].integrated, found["m1"].true_peak, found["m1"].lra) == (-15.8, -1.9, 3.0)


def test_named_summaries_name_the_filter_that_printed_nothing() -> None:
    with pytest.raises(MediaError, match=r"x\.wav: could not measure loudness: no summary from ebur128@m1"):
        loudness.parse_named_summaries(_summary("m0", -16.2, -2.5), ["m0", "m1"], "x.wav")


def test_command_prints_integrated_range_and_true_peak(tmp_path: Path, speech_file: Path) -> None:
    expected = independent_loudness(speech_file)
    text = run_cli(tmp_path, "loudness", str(speech_file))
    assert text.returncode == 0, text.stderr
    assert text.stdout == (f"{speech_file}: {expected.integrated:.1f} LUFS integrated, {expected.lra:.1f} LU range, "
                           f"{expected.true_peak:.1f} dBTP true peak\n")
    as_json = run_cli(tmp_path, "loudness", str(speech_file), "--json")
    data = json.loads(as_json.stdout)
    assert (data["integrated"], data["lra"], data["true_peak"]) == (
        expected.integrated, expected.lra, expected.true_peak)
    assert data["duration"] == pytest.approx(10.0, abs=0.1)


def test_command_on_a_missing_file_exits_1_with_one_line(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "loudness", str(tmp_path / "puuttuu.wav"))
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip() == f"error: {tmp_path / 'puuttuu.wav'}: file not found"


# Signals whose encodes have peaks between samples: speech, broadband and high-frequency noise,
# tones near the encoders' lowpass, a square wave and a sweep, each raised so its peaks reach
# about -1 dBFS, where verification decides.
_PEAKY = {
    "pink": "anoisesrc=color=pink:sample_rate=48000:duration=4:seed=7",
    "white": "anoisesrc=color=white:sample_rate=48000:duration=4:seed=3,highpass=f=9000",
    "tones": "aevalsrc='0.4*sin(2*PI*11000*t)+0.4*sin(2*PI*14500*t)':s=48000:d=4",
    "square": "aevalsrc='0.6*sgn(sin(2*PI*441*t))':s=48000:d=4",
    "sweep": "aevalsrc='0.8*sin(2*PI*(100*t+1800*t*t))':s=48000:d=4",
}


def _ebur128_true_peak(path: Path) -> float:
    """ebur128's true peak to its last digit (the summary rounds it to 0.1 dB): the highest of the
    per-channel peaks it attaches to each frame."""
    import math
    import re
    result = ffmpeg.run(["-i", path, "-af", "ebur128=peak=true:metadata=1,ametadata=mode=print", "-f", "null", "-"],
                        what=path)
    peaks = [float(v) for v in re.findall(r"lavfi\.r128\.true_peaks_ch\d+=(\S+)", result.stderr)]
    return 20 * math.log10(max(peaks))


@pytest.mark.parametrize("name", sorted(_PEAKY))
def test_the_verifiers_true_peak_never_reads_under_ebur128s(tmp_path: Path, name: str) -> None:
    """The verifiers' true peak (192 kHz resampling, `peak="resampled"`) on MP3, AAC and mono MP3
    encodes: at most 0.01 dB under ebur128's own, and the loudness read by the same ebur128."""
    source = tmp_path / f"{name}.wav"
    ffmpeg.run(["-f", "lavfi", "-i", _PEAKY[name], "-af", "pan=stereo|c0=c0|c1=0.9*c0,volume=1.5dB",
                "-c:a", "pcm_f32le", "-y", source], what=source)
    for out, codec in ((f"{name}.mp3", ["-c:a", "libmp3lame", "-b:a", "128k"]),
                       (f"{name}.m4a", ["-c:a", "aac", "-b:a", "128k"]),
                       (f"{name}-mono.mp3", ["-ac", "1", "-ar", "44100", "-c:a", "libmp3lame", "-b:a", "96k"])):
        encoded = tmp_path / out
        ffmpeg.run(["-i", source, *codec, "-y", encoded], what=encoded)
        verified = loudness.measure(encoded, peak="resampled")
        streamed = loudness.measure_stream(encoded, "mp3" if out.endswith(".mp3") else "mov", what=encoded)
        reference = loudness.measure(encoded)
        assert verified == streamed
        assert (verified.integrated, verified.lra) == (reference.integrated, reference.lra)
        assert verified.true_peak >= _ebur128_true_peak(encoded) - 0.01, out
        assert verified.true_peak == pytest.approx(reference.true_peak, abs=1.5), out


def test_a_resampled_summary_without_peaks_is_refused() -> None:
    with pytest.raises(MediaError, match=r"x\.mp3: could not measure the true peak"):
        loudness.parse_summary("Summary:\n  I: -16.0 LUFS\n", "x.mp3", peak="resampled")
