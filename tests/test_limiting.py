"""limiting: the limiter calibration's first guess, predicted from the analysis's 400 ms blocks and
their peaks, measured against the whole programme through the encode graph."""

from __future__ import annotations

import logging
import re
import subprocess
from array import array
from pathlib import Path

import pytest

from media_pipeline.audio import calibration, ffmpeg, limiting, planning
from media_pipeline.audio.graph import filter_graph
from media_pipeline.audio.probe import probe
from media_pipeline.model import AudioSettings
from media_pipeline_demo import synth

pytestmark = pytest.mark.portability  # the analysis's peak log is filters that 5.1 has too


def test_a_block_takes_the_highest_of_the_four_100_ms_peaks_it_spans() -> None:
    found = limiting.blocks([-30.0, -29.0, -28.0, -27.0, -26.0, -25.0], [-9.0, -3.0, -8.0, -7.0, -6.0, -5.0, -12.0])
    assert list(found.peaks) == [-9.0, -3.0, -3.0, -3.0, -3.0, -5.0]
    assert limiting.blocks([-30.0, -29.0, -28.0], [-9.0]) is None  # logs that do not line up: no guess from them
    assert limiting.blocks([], []) is None


def test_the_blocks_a_memo_keeps_read_back_number_for_number() -> None:
    found = limiting.blocks([-120.691, -27.023, -16.2], [-16.208840, float("-inf"), float("nan"), 2.501])
    assert list(found.momentary) == [-120.69, -27.02, -16.2]
    assert list(found.peaks) == [-16.21, -16.21, -16.21]
    assert list(limiting.blocks([-20.0, -20.0], [float("-inf"), float("nan")]).peaks) == [-300.0, -300.0]
    assert limiting.from_text(limiting.to_text(found)) == found
    for broken in (None, {}, {"momentary": "!!", "peaks": ""}, {"momentary": "AAA=", "peaks": "AAAA"}):
        assert limiting.from_text(broken) is None


def _deep_limiting(path: Path) -> Path:
    """Speech-like bursts with a click 18 dB over them three times a second: a limiter working
    deep, whose loudest sample stands far above the peaks it mostly takes (the guess from that
    sample alone was 2 LU off and took three passes)."""
    graph = ("anoisesrc=color=pink:sample_rate=48000:amplitude=0.5:seed=9:duration=45,"
             "bandpass=f=900:width_type=h:w=1400,"
             "volume='0.5+0.5*sin(2*PI*4*t)*gt(sin(2*PI*0.7*t),-0.3)':eval=frame,"
             "volume='if(lt(mod(t,3),0.05),8,1)':eval=frame,volume=-20dB[out]")
    subprocess.run([ffmpeg.binary(), "-hide_banner", "-nostdin", "-loglevel", "error", "-filter_complex", graph,
                    "-map", "[out]", "-ac", "2", "-c:a", "pcm_s16le", "-y", str(path)], check=True)
    return path


@pytest.mark.parametrize("recording", ["deep limiting", "adversarial"])
def test_the_first_pass_lands_where_the_blocks_predict_and_is_the_only_one(tmp_path: Path, caplog,
                                                                          recording: str) -> None:
    if recording == "adversarial":  # a programme not in the fit: another voice, another level
        source = synth.adversarial(tmp_path / "a.wav", 90.0, seed=11, level_lufs=-23.0)
    else:
        source = _deep_limiting(tmp_path / "d.wav")
    info = probe(source)
    settings = AudioSettings(target_lufs=-19.0, channels=1, bitrate_kbps=96)
    the_plan = planning.plan(info, settings)
    branch = the_plan.branch("mp3")
    assert branch.limiter_db is not None and the_plan.main.analysis.blocks is not None
    old_guess = planning.CODEC_COMPENSATION_LU["mp3"] + planning.limiter_loss(
        the_plan.main.gain_db + the_plan.main.analysis.sample_peak + planning.CODEC_COMPENSATION_LU["mp3"]
        - branch.limiter_db)
    caplog.set_level(logging.INFO, logger="media_pipeline")
    (calibrated,) = calibration.calibrate(the_plan, (branch,), duration=info.duration)
    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("limiter calibration"))
    passes = re.findall(r"([+-][\d.]+) LU at ([+-][\d.]+) dB", line)
    assert len(passes) == 1, line
    assert abs(float(passes[0][0])) <= calibration.CLOSE_PREDICTED_LU, line
    assert float(passes[0][1]) == pytest.approx(branch.trim_db, abs=0.01)
    # where the guess from the loudest sample would have measured first, further off
    if recording == "deep limiting":
        assert abs(old_guess - calibrated.trim_db) > 1.0 > abs(branch.trim_db - calibrated.trim_db)


def test_no_prediction_where_the_blocks_are_not_the_programmes(tmp_path: Path) -> None:
    """A levelled recording's blocks are from before its envelope, and a programme with an intro
    has segments of its own: the guess from the loudest sample stays."""
    source = synth.badly_levelled(tmp_path / "talk.wav", 40.0)
    levelled = planning.plan(probe(source), AudioSettings(max_loudness_range=6.0, target_lufs=-12.0))
    branch = levelled.branch("mp3")
    assert levelled.main.analysis.levelling is not None
    assert levelled.predicted(planning.Branch("mp3", 0.4, -2.5)) is None
    assert branch.limiter_db is None or branch.trim_db == pytest.approx(0.4 + planning.limiter_loss(
        max(s.gain_db + s.analysis.sample_peak for s in levelled.segments) + 0.4 - branch.limiter_db))


def test_a_webinars_aac_and_mp3_share_one_limiter_with_the_prediction(tmp_path: Path) -> None:
    """A webinar's margins are chosen so that its MP4's AAC and its MP3 share one limiter (half
    the limiting, one calibration as two halves): the predicted gains must keep them sharing, to
    the last digit the graph compares."""
    source = synth.adversarial(tmp_path / "w.wav", 90.0, seed=4)
    the_plan = planning.plan(probe(source), AudioSettings(target_lufs=-16.0), video=True)
    aac, mp3 = the_plan.branch("aac"), the_plan.branch("mp3")
    assert aac.limiter_db is not None and the_plan.predicted(aac) is not None
    assert filter_graph(the_plan, (aac, mp3), 48000).count("alimiter") == 1
