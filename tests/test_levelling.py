"""Speech levelling: a badly levelled recording reaches the asked loudness range after encoding, on
target and under the ceiling, without pumping: room tone in the pauses is never raised more than
the speech around it, and the gain only ever ramps slowly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from media_pipeline.audio import analysis, ffmpeg, levelling
from media_pipeline.audio.encode import Output
from media_pipeline.audio.probe import probe
from media_pipeline.audio.process import render
from media_pipeline.model import AudioSettings
from media_pipeline_demo import synth

from audio_support import independent_loudness

SECONDS = 150.0  # five 30 s passages, the 2nd and 4th 10 dB down, each opening with 4 s of room tone
PASSAGE, PAUSE = 30.0, 4.0


@pytest.fixture(scope="module")
def badly_levelled(tmp_path_factory) -> Path:
    return synth.badly_levelled(tmp_path_factory.mktemp("levelling") / "haastattelu.wav", SECONDS, level_lufs=-24.0,
                                passage=PASSAGE, pause=PAUSE)


@pytest.fixture(scope="module")
def levelled(badly_levelled: Path, tmp_path_factory) -> tuple[Path, AudioSettings]:
    settings = AudioSettings(max_loudness_range=8.0, sample_rate=48000)
    out = tmp_path_factory.mktemp("levelled") / "levelled.mp3"
    render(probe(badly_levelled), settings, (Output(out, "mp3", 128),))
    return out, settings


def test_the_generated_recording_is_badly_levelled(badly_levelled: Path) -> None:
    measured = independent_loudness(badly_levelled)
    assert measured.lra >= 15.0 and measured.integrated == pytest.approx(-24.0, abs=0.5)


def test_levelling_reaches_the_asked_range_on_target_and_under_the_ceiling_after_encoding(levelled) -> None:
    out, settings = levelled
    measured = independent_loudness(out)
    assert measured.lra <= 8.0, measured
    assert abs(measured.integrated - settings.target_lufs) <= 0.5, measured
    assert measured.true_peak <= settings.true_peak_db, measured


def test_without_levelling_the_range_stays_far_over_it(badly_levelled: Path, tmp_path: Path) -> None:
    out = tmp_path / "plain.mp3"
    render(probe(badly_levelled), AudioSettings(sample_rate=48000), (Output(out, "mp3", 128),))
    assert independent_loudness(out).lra >= 14.0  # only the limiter touched the loudest peaks


def _level(path: Path, start: float, end: float) -> float:
    """Mean level (dBFS, RMS) of [start, end) seconds of `path`."""
    result = ffmpeg.run(["-i", path, "-af", f"atrim={start}:{end},volumedetect", "-f", "null", "-"], what=path)
    return float(re.search(r"mean_volume: (-?[\d.]+) dB", result.stderr).group(1))


def test_room_tone_in_pauses_is_never_raised_more_than_the_speech_around_it(badly_levelled: Path, levelled) -> None:
    """The pumping rule: in each pause, the gain the room tone got (output level minus input level)
    is at most the larger gain of the speech just before and just after it (2.5 s of each), plus 1 dB
    for the encoder. A compressor or a fast leveller raises the room tone far more: it sees silence."""
    out, _ = levelled

    def gain(start: float, end: float) -> float:
        return _level(out, start, end) - _level(badly_levelled, start, end)

    passages = int(SECONDS // PASSAGE)
    middles = [gain(k * PASSAGE + 8, (k + 1) * PASSAGE - 2) for k in range(passages)]
    assert max(middles) - min(middles) >= 5.0, middles  # the quiet passages did come up
    for k in range(1, passages):
        start = k * PASSAGE
        tone = gain(start + 0.5, start + PAUSE - 0.5)
        before, after = gain(start - 2.5, start), gain(start + PAUSE, start + PAUSE + 2.5)
        assert tone <= max(before, after) + 1.0, (k, tone, before, after)


def test_the_gain_never_moves_faster_than_three_decibels_a_second(badly_levelled: Path) -> None:
    settings = AudioSettings(max_loudness_range=8.0)
    envelope = analysis.analyse(badly_levelled, settings, duration=SECONDS, level=True).levelling
    assert envelope is not None and envelope.strength > 0
    points = envelope.points
    steepest = max(abs(g1 - g0) / (t1 - t0) for (t0, g0), (t1, g1) in zip(points, points[1:]))
    assert steepest <= 3.0 + 1e-9, steepest
    # ramps evaluated on every audio frame (1024 samples at 48 kHz): steps far below audibility
    assert steepest * 1024 / 48000 <= 0.1


def test_a_recording_within_the_range_is_left_as_it_is(tmp_path: Path) -> None:
    even = synth.speech(tmp_path / "even.wav", 30.0, level_lufs=-20.0)
    settings = AudioSettings(max_loudness_range=20.0)
    assert analysis.analyse(even, settings, duration=30.0, level=True).levelling is None


def test_integrated_loudness_and_range_from_the_frame_log_match_ebur128s_summary(badly_levelled: Path) -> None:
    log: list[str] = []  # every line: the run keeps only the ends of its stderr
    ffmpeg.run(["-i", badly_levelled, "-af", "ebur128=framelog=info", "-f", "null", "-"], what="test",
               lines=log.append)
    frames = levelling.parse_frames("\n".join(log))
    summary = independent_loudness(badly_levelled)
    assert levelling.integrated(frames.momentary) == pytest.approx(summary.integrated, abs=0.1)
    assert levelling.loudness_range(frames.short_term) == pytest.approx(summary.lra, abs=0.2)
