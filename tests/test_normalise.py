"""Normalisation: every format and level lands on the target, measured independently on the encoded file."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from media_pipeline.audio import analysis, calibration, encode, ffmpeg, graph, loudness, planning
from media_pipeline.audio.encode import Output
from media_pipeline.audio.probe import probe
from media_pipeline.audio.process import render
from media_pipeline.errors import MediaError
from media_pipeline.model import AudioSettings, Loudness
from media_pipeline_demo import synth

from audio_support import independent_loudness

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
    with pytest.raises(MediaError, match=r"speech\.wav: result\.mp3 measured .* outside -10 ± 0\.5 LU"):
        _render(source, tmp_path / "out", settings, kinds=("mp3",))


def test_the_calibration_measures_an_evenly_spread_tenth_of_a_long_programme() -> None:
    assert analysis.calibration_sample(50.0) is None  # at least 30 s: a short clip is measured whole
    assert analysis.calibration_sample(180.0) == "lt(mod(t\\,18.000)\\,3)"  # 30 s of 3 minutes
    sample = analysis.calibration_sample(3600.0)
    assert sample == "lt(mod(t\\,30.000)\\,3)"  # 3 s out of every 30 s
    settings = AudioSettings()
    found = analysis.Analysis(Loudness(-28.0, 18.0, -9.0), start=2.0, end=3602.0)
    the_plan = planning.Plan((planning.Segment(Path("long.wav"), found, 12.0),), 0, settings)
    text = graph.filter_graph(the_plan, (the_plan.branch("mp3"),), 44100, sample=sample)
    assert f"aselect={sample},atrim=start=2.000:end=3602.000" in text


def test_the_calibrated_gain_balances_the_loss_it_causes() -> None:
    # (extra gain, loss at that gain): the limiter takes 0.45 LU when given 0.45 dB more
    assert calibration._balance([(0.2, 0.4), (0.7, 0.5), (1.2, 0.6)]) == pytest.approx(0.45)
    # all measured gains too high, or too low: extrapolated from the nearest two
    assert calibration._balance([(1.0, 0.6), (1.5, 0.7)]) == pytest.approx(0.5)
    assert calibration._balance([(0.0, 0.9), (0.5, 1.2)]) == pytest.approx(2.25)


@pytest.mark.slow
def test_eleven_minutes_reach_the_target_through_the_two_half_calibration(tmp_path: Path) -> None:
    source = synth.speech(tmp_path / "long.flac", 660.0, level_lufs=-28.0)
    outputs, measured, durations = _render(source, tmp_path / "out", AudioSettings(), kinds=("mp3",))
    after = independent_loudness(outputs[0].path)
    assert abs(after.integrated + 16.0) <= 0.5 and after.true_peak <= -1.0
    assert durations[0] == pytest.approx(660.0, abs=0.2)


def _frame_times(path: Path) -> list[float]:
    """The start time of every audio frame stored in `path`, as stored."""
    found = ffmpeg.run(["-copyts", "-i", path, "-af", "ashowinfo", "-f", "null", "-"], what=path).stderr
    return [float(t) for t in re.findall(r"pts_time:(-?[\d.]+)", found)]


@pytest.mark.parametrize("halves", [False, True], ids=["one pass", "two halves"])
def test_the_sample_the_analysis_keeps_calibrates_as_reading_the_recording_would(tmp_path: Path, monkeypatch,
                                                                                 halves: bool) -> None:
    """The calibration reads the sample the analysis pass kept instead of decoding the recording
    again; levelled, its envelope follows the input's timeline, so the kept sample must carry the
    input's own timestamps (the second half's too): then the limiter's loss is the same."""
    if halves:
        monkeypatch.setattr(analysis, "PARALLEL_ANALYSIS_SECONDS", 60.0)
    source = synth.badly_levelled(tmp_path / "interview.wav", 150.0, level_lufs=-26.0)
    settings = AudioSettings(max_loudness_range=8.0)
    info = probe(source)
    kept = planning.plan(info, settings, sample_dir=tmp_path)
    parts = kept.main.analysis.sample
    assert parts == tuple(tmp_path / f"sample-{k}.nut" for k in range(2 if halves else 1))
    # 3 s out of every 15 s of the input's own timeline, the second half's from its middle on
    times = [t for part in parts for t in _frame_times(part)]
    assert times == sorted(times) and all(t % 15.0 < 3.0 for t in times)
    assert {int(t // 15.0) for t in times} == set(range(10))
    read = planning.plan(info, settings)
    assert read.main.analysis.sample == () and read.main.analysis.levelling is not None
    assert read.branch("mp3").limiter_db is not None
    sample = analysis.calibration_sample(info.duration)
    # the levelled programme after the limiter, and before it (ebur128 prints tenths of an LU, and
    # the two halves are resampled apart: one tenth apart at most)
    from_kept = calibration.measure_sample(kept, read.branch("mp3"), sample=sample, workdir=tmp_path)
    from_source = calibration.measure_sample(read, read.branch("mp3"), sample=sample, workdir=tmp_path)
    for kept_loudness, source_loudness in zip(from_kept, from_source):
        assert kept_loudness.integrated == pytest.approx(source_loudness.integrated, abs=0.15)


@pytest.fixture
def started(monkeypatch) -> list[tuple[list[str], int]]:
    """Every process ffmpeg.popen starts from now on: its argv and how many steps of nice lower."""
    seen: list[tuple[list[str], int]] = []
    popen = ffmpeg.popen

    def spy(argv, *, nice=0, **kwargs):
        seen.append(([str(a) for a in argv], nice))
        return popen(argv, nice=nice, **kwargs)

    monkeypatch.setattr(ffmpeg, "popen", spy)
    return seen


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


def test_render_calibrates_on_the_kept_sample_and_verifies_at_a_lower_priority(tmp_path: Path, started) -> None:
    """What `render` starts after the analysis: the calibration reads only the sample the analysis
    kept (never the recording again) and measures the loudness before the limiter once, and the
    verifiers run below the encoder's priority."""
    source = synth.speech(tmp_path / "speech.wav", 90.0, level_lufs=-28.0)  # quiet: the gain needs the limiter
    outputs, measured, _ = _render(source, tmp_path / "out", AudioSettings(), kinds=("mp3",))
    inputs = [[argv[i + 1] for i, a in enumerate(argv) if a == "-i"] for argv, _ in started]
    analysis = [k for k, ins in enumerate(inputs) if ins == [str(source)] and "ebur128" in " ".join(started[k][0])]
    calibration = [k for k, ins in enumerate(inputs) if any(i.endswith(".nut") for i in ins)]
    encode = [k for k, (argv, _) in enumerate(started) if "libmp3lame" in argv]
    verifiers = [k for k, ins in enumerate(inputs) if any("verify" in i for i in ins)]
    assert len(analysis) == 1 and len(calibration) == 2 and len(encode) == 1 and len(verifiers) == 1
    assert analysis[0] < min(calibration) and max(calibration) < encode[0]
    assert all(inputs[k] == [inputs[calibration[0]][0]] and "-copyts" in started[k][0] for k in calibration)
    # the loudness before the limiter is the same at every gain tried: measured by one run only
    assert sum("ebur128@before" in " ".join(started[k][0]) for k in calibration) == 1
    # after the analysis, only the encode reads the recording
    assert [k for k, ins in enumerate(inputs) if str(source) in ins and k > analysis[0]] == encode
    assert [started[k][1] for k in verifiers] == [ffmpeg.BACKGROUND_NICE] and started[encode[0]][1] == 0
    assert abs(measured[0].integrated + 16.0) <= 0.5
