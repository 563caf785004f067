"""Normalisation: every format and level lands on the target, measured independently on the encoded file."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path

import pytest

from media_pipeline.audio import calibration, encode, ffmpeg, loudness, planning
from media_pipeline.audio.encode import Output
from media_pipeline.audio.probe import probe
from media_pipeline.audio.process import render
from media_pipeline.errors import MediaError
from media_pipeline.model import AudioSettings, Loudness
from media_pipeline_demo import synth

from audio_support import independent_loudness, reads

pytestmark = pytest.mark.portability  # CI runs these with the distribution's ffmpeg too

SECONDS = 12.0


def _render(source: Path, out: Path, settings: AudioSettings, kinds=("mp3", "m4a")):
    info = probe(source)
    outputs = tuple(Output(out / f"result.{kind}", kind, settings.bitrate_kbps) for kind in kinds)
    out.mkdir(exist_ok=True)
    measured, durations = render(info, settings, outputs)
    return outputs, measured, durations


@pytest.mark.parametrize("level", [-30.0, -23.0, -12.0])
@pytest.mark.parametrize("suffix", [".wav", ".flac", ".mp3", ".m4a", ".opus"])
def test_every_format_and_level_reaches_target_under_ceiling(tmp_path: Path, suffix: str, level: float) -> None:
    """Must show 1: -30, -23 and -12 LUFS inputs (the last clipping at 0 dBFS) in five formats."""
    source = synth.speech(tmp_path / f"speech{suffix}", SECONDS, level_lufs=level)
    before = independent_loudness(source)
    assert before.integrated == pytest.approx(level, abs=1.0)
    if level == -12.0:
        sample_peak = loudness.measure(source, peak="sample").true_peak
        assert sample_peak >= -0.5, "the loud input should be a hot recording peaking at full scale"
    settings = AudioSettings()
    outputs, measured, _ = _render(source, tmp_path / "out", settings)
    for output, reported in zip(outputs, measured):
        after = independent_loudness(output.path)
        assert abs(after.integrated - settings.target_lufs) <= 0.5, (output.path.name, after)
        assert after.true_peak <= settings.true_peak_db, (output.path.name, after)
        # what the pipeline reports is what an independent reader measures
        assert reported.integrated == pytest.approx(after.integrated, abs=0.15)
        assert reported.true_peak == pytest.approx(after.true_peak, abs=0.15)


def test_gain_is_linear_so_speech_keeps_its_dynamics(tmp_path: Path) -> None:
    source = synth.speech(tmp_path / "quiet.wav", SECONDS, level_lufs=-23.0)
    before = independent_loudness(source)
    outputs, _, _ = _render(source, tmp_path / "out", AudioSettings(), kinds=("mp3",))
    after = independent_loudness(outputs[0].path)
    assert after.lra == pytest.approx(before.lra, abs=1.0)


def test_limiter_only_when_the_gain_would_pass_the_ceiling(tmp_path: Path) -> None:
    settings = AudioSettings()
    loud = probe(synth.speech(tmp_path / "loud.wav", SECONDS, level_lufs=-12.0))
    quiet = probe(synth.speech(tmp_path / "quiet.wav", SECONDS, level_lufs=-30.0))
    assert planning.plan(loud, settings).branch("mp3").limiter_db is None
    assert planning.plan(quiet, settings).branch("mp3").limiter_db is not None


def test_mono_speech_show_at_minus_19_with_highpass_and_sample_rate(tmp_path: Path) -> None:
    settings = AudioSettings(target_lufs=-19.0, channels=1, sample_rate=48000, bitrate_kbps=64, highpass_hz=80.0)
    source = synth.speech(tmp_path / "stereo.flac", SECONDS, level_lufs=-25.0)
    outputs, _, _ = _render(source, tmp_path / "out", settings, kinds=("mp3",))
    info = probe(outputs[0].path)
    assert (info.audio.channels, info.audio.sample_rate) == (1, 48000)
    after = independent_loudness(outputs[0].path)
    assert abs(after.integrated + 19.0) <= 0.5 and after.true_peak <= -1.0


def test_silence_is_trimmed_at_both_ends(tmp_path: Path) -> None:
    speech = synth.speech(tmp_path / "speech.wav", 8.0, level_lufs=-20.0)
    padded = tmp_path / "padded.wav"
    ffmpeg.run(["-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo:d=3", "-i", speech,
                "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo:d=4",
                "-filter_complex", "[0][1][2]concat=n=3:v=0:a=1", "-c:a", "pcm_s16le", "-y", padded], what=padded)
    assert probe(padded).duration == pytest.approx(15.0, abs=0.1)
    settings = AudioSettings(trim_silence=True, silence_threshold_db=-60.0, silence_min_seconds=0.5)
    outputs, measured, durations = _render(padded, tmp_path / "out", settings, kinds=("mp3",))
    # 8 s of speech, whose own pauses stay, plus up to 0.25 s kept at each end
    assert 7.5 <= durations[0] <= 9.0
    assert abs(independent_loudness(outputs[0].path).integrated + 16.0) <= 0.5


def test_intro_and_outro_are_joined_each_at_the_target(tmp_path: Path) -> None:
    intro = synth.speech(tmp_path / "intro.wav", 4.0, level_lufs=-10.0, seed=7)
    outro = synth.speech(tmp_path / "outro.wav", 3.0, level_lufs=-35.0, seed=9)
    source = synth.speech(tmp_path / "episode.wav", SECONDS, level_lufs=-24.0)
    settings = AudioSettings(intro=intro, outro=outro)
    outputs, _, durations = _render(source, tmp_path / "out", settings, kinds=("mp3",))
    assert durations[0] == pytest.approx(SECONDS + 7.0, abs=0.2)
    after = independent_loudness(outputs[0].path)
    assert abs(after.integrated + 16.0) <= 0.5 and after.true_peak <= -1.0


def test_digital_silence_is_refused(tmp_path: Path) -> None:
    silence = tmp_path / "silence.wav"
    ffmpeg.run(["-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo:d=5", "-c:a", "pcm_s16le", "-y", silence],
               what=silence)
    with pytest.raises(MediaError, match=r"silence\.wav: no audible programme"):
        _render(silence, tmp_path / "out", AudioSettings())


def test_result_outside_tolerance_is_an_error_not_a_pass(tmp_path: Path) -> None:
    """A ceiling no limiter can reach under this target: the verification must refuse it."""
    source = synth.speech(tmp_path / "speech.wav", SECONDS, level_lufs=-20.0)
    settings = replace(AudioSettings(), target_lufs=-10.0, true_peak_db=-30.0)
    with pytest.raises(MediaError, match=r"speech\.wav: result\.mp3 measured .* outside -10 ± 0\.5 LU.*out of reach"):
        _render(source, tmp_path / "out", settings, kinds=("mp3",))


def test_the_calibration_steps_towards_the_target_and_stops_once_it_is_bracketed_or_close() -> None:
    P = calibration.Point
    # one point 1.5 LU short: the first step assumes the limiter takes part of each dB (slope 0.6)
    trim, done = calibration.next_trim([P(2.0, -1.5)])
    assert trim == pytest.approx(2.0 + 1.5 / calibration.FIRST_SLOPE) and not done
    # two points on one side: the secant of the two
    trim, done = calibration.next_trim([P(2.0, -1.5), P(4.5, -0.5)])
    assert trim == pytest.approx(4.5 + 0.5 / 0.4) and not done
    # a point within CLOSE_LU: the short step is taken without another pass
    trim, done = calibration.next_trim([P(2.0, -1.5), P(4.5, -0.1)])
    assert trim == pytest.approx(4.5 + 0.1 / 0.56) and done
    # two points either side, at most NARROW_DB apart: interpolated
    trim, done = calibration.next_trim([P(2.0, -1.5), P(5.0, -0.3), P(5.8, 0.1)])
    assert trim == pytest.approx(5.0 + 0.3 * 0.8 / 0.4) and done
    # a wide bracket is interpolated and measured again
    trim, done = calibration.next_trim([P(2.0, -1.5), P(6.0, 0.6)])
    assert 2.0 < trim < 6.0 and not done
    # too loud at the guess (the limiter takes less than guessed): the step goes down
    trim, done = calibration.next_trim([P(3.0, 0.9)])
    assert trim == pytest.approx(3.0 - 0.9 / calibration.FIRST_SLOPE) and not done


def test_the_first_guess_of_the_limiter_loss_keeps_growing_for_heavy_limiting() -> None:
    """No cap: a limiter working 16 dB deep took 5.0 LU from badly levelled speech (the guess that
    stopped at 2 LU cost a second calibration pass)."""
    assert planning.limiter_loss(0.0) == 0.0
    assert planning.limiter_loss(3.7) == pytest.approx(0.43, abs=0.01)
    assert 4.5 < planning.limiter_loss(11.4) < 5.5
    losses = [planning.limiter_loss(x / 2) for x in range(40)]
    assert losses == sorted(losses) and all(b - a < 0.5 for a, b in zip(losses, losses[1:]))


@pytest.mark.slow
def test_eleven_minutes_reach_the_target_through_the_two_half_calibration(tmp_path: Path) -> None:
    source = synth.speech(tmp_path / "long.flac", 660.0, level_lufs=-28.0)
    outputs, measured, durations = _render(source, tmp_path / "out", AudioSettings(), kinds=("mp3",))
    after = independent_loudness(outputs[0].path)
    assert abs(after.integrated + 16.0) <= 0.5 and after.true_peak <= -1.0
    assert durations[0] == pytest.approx(660.0, abs=0.2)


def test_the_calibration_reads_the_whole_programme_so_repeating_level_changes_cannot_hide_from_it(
        tmp_path: Path, caplog) -> None:
    """A 30 s recording with a loud passage, looped to 5 minutes: its level changes repeat every
    30 s, the period a sample of 3 s in every 30 s would have read at the same place of every loop.
    The calibration measures every second of it, so the first encode lands (no correction)."""
    source = synth.adversarial(tmp_path / "looped.wav", 300.0, loop=30.0)
    settings = replace(AudioSettings(), target_lufs=-19.0, channels=1, bitrate_kbps=96)
    caplog.set_level(logging.INFO, logger="media_pipeline")
    outputs, measured, _ = _render(source, tmp_path / "out", settings, kinds=("mp3",))
    calibrations = [r.getMessage() for r in caplog.records if r.getMessage().startswith("limiter calibration")]
    assert calibrations, "the limiter was not engaged: the recording does not test the calibration"
    assert not [r for r in caplog.records if r.getMessage().startswith("correcting")]
    assert abs(measured[0].integrated + 19.0) <= 0.3 and measured[0].true_peak <= -1.0
    assert independent_loudness(outputs[0].path).integrated == pytest.approx(measured[0].integrated, abs=0.1)


def _tries(*steps: tuple[float, float | None, float, float]) -> list:
    """(trim, limit, measured LUFS, measured dBTP) as the (branch, result) pairs render keeps."""
    return [(planning.Branch("mp3", trim, limit), Loudness(lufs, 5.0, peak)) for trim, limit, lufs, peak in steps]


def test_corrections_take_the_measured_slope_and_stop_where_the_target_is_out_of_reach() -> None:
    settings = AudioSettings()  # -16 LUFS, -1 dBTP
    # below the limiter's reach the loudness follows the gain: the error is the step
    first = planning.corrected(_tries((0.4, -2.5, -16.8, -2.0)), settings)
    assert first.trim_db == pytest.approx(1.2) and first.limiter_db == -2.5
    # where the limiter took half of the last step, the next step is twice the error (a secant step)
    second = planning.corrected(_tries((0.4, -2.5, -16.8, -2.0), (1.2, -2.5, -16.4, -1.8)), settings)
    assert second.trim_db == pytest.approx(1.2 + 0.4 / 0.5)
    # over the ceiling the limiter goes down by the overshoot and a margin more
    assert planning.corrected(_tries((0.4, -2.5, -16.0, -0.6)), settings).limiter_db == \
        pytest.approx(-2.5 - 0.4 - planning.CORRECTION_MARGIN_DB)
    # 2 dB more gain that raised the loudness by 0.1 LU: the limiter takes it all, no gain reaches -16
    hopeless = _tries((2.0, -2.5, -17.5, -1.2), (4.0, -2.5, -17.4, -1.1))
    assert not planning.reachable(hopeless, settings) and planning.reachable(hopeless[:1], settings)
    reason = planning.out_of_reach(hopeless, settings)
    assert reason.startswith("measured -17.4 LUFS and -1.1 dBTP after encoding, outside -16 ± 0.5 LU")
    assert "the target is out of reach: +2.0 dB more gain raised the loudness by +0.1 LU" in reason
    # a DC offset stands in every peak and adds nothing to the loudness: the way out is named
    assert "highpass = 20" in reason
    assert "highpass =" not in planning.out_of_reach(hopeless, replace(settings, highpass_hz=80.0))
    # a result over the ceiling is worse than a quiet one, and then the nearer one wins
    assert planning.distance(Loudness(-16.0, 5.0, -0.5), settings) > planning.distance(Loudness(-16.4, 5.0, -1.2),
                                                                                       settings)
    assert planning.distance(Loudness(-16.1, 5.0, -1.2), settings) < planning.distance(Loudness(-16.4, 5.0, -1.2),
                                                                                       settings)
    # a hair over the ceiling is over: never kept in place of a compliant result further from the target
    assert planning.distance(Loudness(-15.8, 5.0, -0.996), settings) > planning.distance(Loudness(-15.6, 5.0, -2.8),
                                                                                         settings)


@pytest.mark.parametrize("kinds", [("mp3", "m4a"), ("mp4", "mp3")], ids=["audio", "webinar"])
def test_an_ffmpeg_that_encodes_on_one_thread_gets_a_run_per_output_with_the_same_bytes(tmp_path: Path, monkeypatch,
                                                                                       started, kinds) -> None:
    """Before ffmpeg 7 every output of a run is encoded on one thread: a webinar's AAC and MP3 took
    their sum. There each output gets a run of its own, at once, the costliest (AAC, or the video)
    at the usual priority and the others a little below, and each run computes its samples as the
    one run for all does: the files are the same, byte for byte."""
    if "mp4" in kinds:
        source = synth.webinar(tmp_path / "talk.mp4", 12.0, level_lufs=-30.0)
    else:
        source = synth.speech(tmp_path / "speech.wav", 40.0, level_lufs=-28.0)  # quiet: the limiter is engaged
    info = probe(source)
    settings = AudioSettings()
    written = {}
    for threaded in (True, False):
        caps = replace(ffmpeg.checked(), threaded_outputs=threaded)
        monkeypatch.setattr(ffmpeg, "checked", lambda caps=caps: caps)
        out = tmp_path / ("one run" if threaded else "a run each")
        out.mkdir()
        outputs = tuple(Output(out / f"result.{kind}", kind, settings.bitrate_kbps,
                               info.video.codec if kind == "mp4" and info.video else None) for kind in kinds)
        del started[:]
        measured, _ = render(info, settings, outputs, video=info.has_video)
        encodes = [(argv, nice) for argv, nice in started if "-filter_complex" in argv
                   and any(c in argv for c in ("aac", "libmp3lame"))]
        codecs = [[c for c in ("aac", "libmp3lame") if c in argv] for argv, _ in encodes]
        if threaded:
            assert len(encodes) == 1 and sorted(codecs[0]) == ["aac", "libmp3lame"]
        else:
            assert sorted(codecs) == [["aac"], ["libmp3lame"]]
            assert {tuple(c): nice for c, (_, nice) in zip(codecs, encodes)} == \
                {("aac",): 0, ("libmp3lame",): encode.SIDE_RUN_NICE}
        for output, m in zip(outputs, measured):
            assert abs(m.integrated - settings.target_lufs) <= 0.5 and m.true_peak <= settings.true_peak_db
        written[threaded] = [o.path.read_bytes() for o in outputs]
    assert written[True] == written[False]


def test_render_calibrates_on_the_whole_programme_and_verifies_at_a_lower_priority(tmp_path: Path, started) -> None:
    """What `render` starts after the analysis: calibration passes over the whole recording, each
    as two halves at once that together cover it (no separate meter of the loudness before the
    limiter: the target is what the passes aim at); one encode; the verifiers run below the
    encoder's priority."""
    source = synth.speech(tmp_path / "speech.wav", 90.0, level_lufs=-28.0)  # quiet: the gain needs the limiter
    outputs, measured, _ = _render(source, tmp_path / "out", AudioSettings(), kinds=("mp3",))
    inputs = [reads(argv) for argv, _ in started]
    metering = [k for k, (argv, _) in enumerate(started) if inputs[k] == [str(source)]
                and "ebur128" in " ".join(argv) and "alimiter" not in " ".join(argv)]
    calibration_runs = [k for k, (argv, _) in enumerate(started)
                        if "alimiter" in " ".join(argv) and "libmp3lame" not in argv]
    encode = [k for k, (argv, _) in enumerate(started) if "libmp3lame" in argv]
    verifiers = [k for k, ins in enumerate(inputs) if any("verify" in i for i in ins)]
    assert len(metering) == 1 and len(encode) == 1 and len(verifiers) == 1
    assert calibration_runs and len(calibration_runs) % 2 == 0
    assert len(calibration_runs) <= 2 * calibration.MAX_PASSES
    assert metering[0] < min(calibration_runs) and max(calibration_runs) < encode[0]
    for first, second in zip(calibration_runs[::2], calibration_runs[1::2]):
        a, b = sorted((_bounds(started[first][0]), _bounds(started[second][0])))
        assert inputs[first] == inputs[second] == [str(source)] and "-copyts" not in started[first][0]
        # one half up to the middle, the other from it: every sample is measured once
        assert a == (0.0, 45.0) and b == (45.0, None)
    assert not any("ebur128@before" in " ".join(started[k][0]) for k in calibration_runs)
    assert [started[k][1] for k in verifiers] == [ffmpeg.BACKGROUND_NICE] and started[encode[0]][1] == 0
    assert abs(measured[0].integrated + 16.0) <= 0.5


def _bounds(argv: list[str]) -> tuple[float, float | None]:
    """Which part of its input a measuring run reads (seconds from, seconds to or None: the end),
    by ffmpeg's `-ss`/`-t` or by the seek and trim of a graph that decodes its input."""
    text = " ".join(map(str, argv))
    trim = re.search(r"amovie=[^;]*?,atrim=([^,]*)", text)
    if trim:
        found = dict(part.split("=") for part in trim.group(1).split(":"))
        return float(found.get("start", 0.0)), float(found["end"]) if "end" in found else None
    start = float(argv[argv.index("-ss") + 1]) if "-ss" in argv else 0.0
    return start, start + float(argv[argv.index("-t") + 1]) if "-t" in argv else None
