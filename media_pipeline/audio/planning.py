"""Step 3 of the audio path, the plan's arithmetic: each segment's gain to the target, each
codec's compensation, whether a limiter is needed and where it sits, and the correction after a
verified encode. No I/O but the analysis it asks for.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from media_pipeline.audio import ffmpeg, limiting
from media_pipeline.audio.analysis import Analysis, analyse, recording
from media_pipeline.model import AudioSettings, Loudness, MediaInfo

log = logging.getLogger(__name__)

# Part of every cache key: bump it when a change here alters the audio produced. Webinars have
# their own (see VIDEO_LIMITER_MARGIN_DB), so a change to them alone leaves audio episodes cached.
CODE_VERSION = "normalise-5"
VIDEO_CODE_VERSION = "normalise-video-6"

# Lossy encoders move the numbers (measured on speech, 2-core machine, ffmpeg 9): LAME at 128k
# lowers integrated loudness by about 0.4 LU, ffmpeg's AAC by about 0.2 LU. Aim that much higher.
CODEC_COMPENSATION_LU = {"mp3": 0.4, "aac": 0.2}
# Encoders also raise the true peak above the limiter's sample-peak ceiling, so the limiter is set
# this far below the show's true-peak ceiling: at least 0.4 dB more than the most any encode of
# speech overshot it (ffmpeg 9). The overshoot grows with the programme's length (more peaks, a
# higher highest) and with the energy near the top of the band: espeak-ng's formant speech, looped,
# overshot most. LAME: by 0.75 dB as an 81-second programme, 1.06 to 1.56 dB (1.25 on average) at
# 20 minutes over 17 noise floors in a 96k mono podcast, where 1.5 here sent two of them over the
# ceiling and into a second encode; 1.3 to 1.5 dB at 60 minutes. ffmpeg's AAC: up to 1.4 dB at 20
# minutes, 2.2 dB at 60 (128k stereo), where 1.8 here took a second encode.
LIMITER_MARGIN_DB = {"mp3": 2.0, "aac": 2.6}
# A webinar's AAC in its MP4 overshot by 1.8 dB on the 20- and 60-minute adversarial webinars and
# by 2.1 dB on the 60 minutes of espeak-ng speech (at 48 kHz): the same 2.6 dB. Its MP3 takes 0.2 dB
# less, so that trim minus limit is the same for both codecs, which lets one limiter serve the MP4's
# AAC and the MP3 (they differ by a linear gain after it: half the limiting work).
VIDEO_LIMITER_MARGIN_DB = {"mp3": 2.4, "aac": 2.6}
# The analysis pass reads sample peaks (a third of the cost of 4x oversampled true peak); between
# samples speech peaks rise up to about this much, so the limiter is engaged this early.
INTERSAMPLE_MARGIN_DB = 1.0
# limiter_loss(): a first guess of the loudness lost to limiting, which grows with the square of
# the excess up to the knee and along its tangent after it (fitted on speech); calibrate() then
# measures the whole programme.
LIMITER_LOSS_PER_DB2 = 0.025
LIMITER_LOSS_KNEE_DB = 8.0
# A verified result further than this from the target is encoded once more with the correction,
# at most MAX_CORRECTIONS times (each keeps the better of its result and the one before), each step
# at most MAX_STEP_DB; a limiter that gives back less than MIN_SLOPE LU per dB of gain has the
# target out of reach.
RETRY_LU = 0.3
MAX_CORRECTIONS = 2
MAX_STEP_DB = 6.0
MIN_SLOPE = 0.1
# Over the ceiling, a correction lowers the limiter by the overshoot and this much more: the
# encoder's overshoot grows with the gain the correction adds (bright content: a hi-hat's noise,
# measured 2.9 dB over the limiter at first, 3.4 dB after a correction with 0.3 dB here).
CORRECTION_MARGIN_DB = 0.8
# The lowest limit ffmpeg's alimiter accepts (0.0625 linear).
LIMITER_FLOOR_DB = -24.0

@dataclass(frozen=True)
class Segment:
    """One input of the published programme: the recording, or an intro/outro clip."""

    path: Path
    analysis: Analysis
    gain_db: float  # brings this segment to the target on its own


@dataclass(frozen=True)
class Branch:
    """One encoded output of the graph: its codec and its final gain and limiter settings."""

    codec: str  # "mp3" or "aac"
    trim_db: float  # added to every segment's gain: codec compensation plus any correction
    limiter_db: float | None  # sample-peak ceiling of the limiter, or None: no limiter needed


@dataclass(frozen=True)
class Plan:
    """Everything the encode pass needs to turn the inputs into the published programme."""

    segments: tuple[Segment, ...]  # intro?, main, outro?
    main_index: int
    settings: AudioSettings
    video: bool = False  # a webinar: its own limiter margins

    @property
    def main(self) -> Segment:
        return self.segments[self.main_index]

    def branch(self, codec: str) -> Branch:
        """The gain and limiter for one codec, before any verification: where a limiter is needed,
        the gain is the first guess of what it takes (`predicted`, else `limiter_loss`)."""
        trim = CODEC_COMPENSATION_LU[codec]
        ceiling = self.settings.true_peak_db
        loudest_peak = max(s.gain_db + s.analysis.sample_peak for s in self.segments) + trim
        if loudest_peak <= ceiling - INTERSAMPLE_MARGIN_DB:
            return Branch(codec, trim, None)
        # EBU R128: true peak at most the ceiling; alimiter limits sample peaks, so it sits lower.
        limit = max(ceiling - self.limiter_margin(codec), LIMITER_FLOOR_DB)
        found = self.predicted(Branch(codec, trim, limit))
        return Branch(codec, found[0] if found else trim + limiter_loss(loudest_peak - limit), limit)

    def predicted(self, branch: Branch, offset: float | None = None) -> tuple[float, float] | None:
        """The trim at which `branch`'s limiter gives the target plus the codec's compensation (or
        the encoder's measured `offset`) as `limiting` predicts it from the analysis's blocks, and
        the slope there (LU per dB); None where there is no prediction: several segments (intro,
        outro), a levelling envelope (the blocks are the recording's before it), or no blocks kept."""
        blocks = self.main.analysis.blocks
        if branch.limiter_db is None or len(self.segments) != 1 or self.main.analysis.levelling or blocks is None:
            return None
        aim = CODEC_COMPENSATION_LU[branch.codec] if offset is None else offset
        # rounded as `graph._limiter_key` is: outputs whose margins make them share a limiter (a
        # webinar's AAC and MP3) get the very same answer, and so one limiter
        drive = round(self.main.gain_db + aim - branch.limiter_db, 6)
        found = limiting.take(blocks, gain_db=self.main.gain_db, drive_db=drive, target=self.settings.target_lufs)
        return None if found is None else (aim + found[0], found[1])

    def limiter_margin(self, codec: str) -> float:
        return (VIDEO_LIMITER_MARGIN_DB if self.video else LIMITER_MARGIN_DB)[codec]

    def duration(self, info: MediaInfo, clip_durations: tuple[float, ...] = ()) -> float:
        end = self.main.analysis.end if self.main.analysis.end is not None else info.duration
        return max(0.0, end - self.main.analysis.start) + sum(clip_durations)


def plan(info: MediaInfo, settings: AudioSettings, *, video: bool = False,
         progress: ffmpeg.Progress | None = None, memo_dir: Path | None = None) -> Plan:
    """Analyse the recording and the intro/outro clips and decide each one's gain.

    The recording's analysis is the one its pre-check measured when it is still unchanged
    (`analysis.recording`, kept in this process and in `memo_dir`): it is decoded once.
    Video keeps its timing: no silence trim and no clips, so the copied picture stays in sync.
    """
    main = recording(info.path, settings, video=video, duration=info.duration, memo_dir=memo_dir,
                     progress=progress)
    segments = [Segment(info.path, main, settings.target_lufs - main.integrated)]
    main_index = 0
    if not video:
        for role, clip in (("intro", settings.intro), ("outro", settings.outro)):
            if clip is None:
                continue
            found = analyse(clip, settings)
            segment = Segment(Path(clip), found, settings.target_lufs - found.loudness.integrated)
            if role == "intro":
                segments.insert(0, segment)
                main_index = 1
            else:
                segments.append(segment)
    result = Plan(tuple(segments), main_index, settings, video)
    log.info("plan for %s: gain %+.1f dB to reach %.1f LUFS", info.path, result.main.gain_db, settings.target_lufs)
    return result


def limiter_loss(excess_db: float) -> float:
    """Integrated loudness (LU) the limiter takes away when peaks exceed its limit by `excess_db`:
    the first guess of the calibration, which then measures the whole programme.

    Fitted on speech (ffmpeg's alimiter, 5 ms attack, 50 ms release): about 0.3 LU at 3.7 dB of
    excess, 0.9 at 5.7, 1.8 at 7.7, growing with the square of the excess; past 8 dB it grows
    along that curve's tangent (0.4 LU per dB), as measured on badly levelled speech whose
    limiter worked 16 dB deep (`synth.adversarial`: 5.0 LU). The make-up gain raises the peaks
    again, so it is iterated (it converges: each dB of excess costs under 1 LU).
    """
    def loss_at(excess: float) -> float:
        excess = max(0.0, excess)
        if excess <= LIMITER_LOSS_KNEE_DB:
            return LIMITER_LOSS_PER_DB2 * excess ** 2
        return LIMITER_LOSS_PER_DB2 * LIMITER_LOSS_KNEE_DB * (2 * excess - LIMITER_LOSS_KNEE_DB)

    loss = 0.0
    for _ in range(40):
        loss = loss_at(excess_db + loss)
    return loss


def corrected(tries: list[tuple[Branch, Loudness]], settings: AudioSettings) -> Branch:
    """The branch for one more encode, from every (branch, measured result) tried so far.

    The first correction adds the measured error to the gain (below the limiter's reach the
    loudness follows the gain dB for dB). From two tries on, the step is the error divided by the
    slope the tries measured (a secant step: where the limiter takes part of each extra dB, the
    loudness rises less than the gain), so the corrections converge. Over the ceiling, the limiter
    goes down by the overshoot plus CORRECTION_MARGIN_DB."""
    branch, measured = tries[-1]
    error = settings.target_lufs - measured.integrated
    slope = _slope(tries)
    step = error / slope if slope is not None else error
    over = measured.true_peak - settings.true_peak_db
    limit = branch.limiter_db
    if over > 0:
        start = limit if limit is not None else settings.true_peak_db - LIMITER_MARGIN_DB[branch.codec]
        limit = max(start - over - CORRECTION_MARGIN_DB, LIMITER_FLOOR_DB)
    return Branch(branch.codec, branch.trim_db + max(-MAX_STEP_DB, min(MAX_STEP_DB, step)), limit)


def _slope(tries: list[tuple[Branch, Loudness]]) -> float | None:
    """LU of loudness per dB of gain between the last two tries at one limit, or None (unknown)."""
    if len(tries) < 2:
        return None
    (b0, m0), (b1, m1) = tries[-2], tries[-1]
    if b0.limiter_db != b1.limiter_db or abs(b1.trim_db - b0.trim_db) < 0.05:
        return None
    return max(MIN_SLOPE, min(1.0, (m1.integrated - m0.integrated) / (b1.trim_db - b0.trim_db)))


def reachable(tries: list[tuple[Branch, Loudness]], settings: AudioSettings) -> bool:
    """False when the target is physically out of reach: under the true-peak ceiling, the limiter
    takes back (nearly) every further dB of gain, so no gain brings the loudness up to the target
    (the programme's peaks stand too far above its loudness), or the limiter is at its floor and
    the peaks are still over the ceiling."""
    branch, measured = tries[-1]
    if measured.true_peak > settings.true_peak_db and branch.limiter_db is not None \
            and branch.limiter_db <= LIMITER_FLOOR_DB:
        return False
    if len(tries) >= 2 and measured.integrated < settings.target_lufs:
        (b0, m0), (b1, m1) = tries[-2], tries[-1]
        raised = b1.trim_db - b0.trim_db
        if raised >= 0.5 and (m1.integrated - m0.integrated) / raised < MIN_SLOPE:
            return False
    return True


def distance(measured: Loudness, settings: AudioSettings) -> tuple[float, float]:
    """How far a result is from compliance, to compare two encodes of one output: peaks over the
    ceiling first (a clipped file is worse than a quiet one), then the distance from the target.
    Any excess counts, as `within` counts it: rounded to hundredths, a correction under 0.005 dB over
    the ceiling and 0.2 LU off replaced one under it and 0.4 LU off, and the episode was refused."""
    return (max(0.0, measured.true_peak - settings.true_peak_db),
            abs(measured.integrated - settings.target_lufs))


def out_of_reach(tries: list[tuple[Branch, Loudness]], settings: AudioSettings) -> str:
    """Why an output is refused, in words, after every try (the best result first)."""
    best = min((m for _, m in tries), key=lambda m: distance(m, settings))
    text = (f"measured {best.integrated:.1f} LUFS and {best.true_peak:.1f} dBTP after encoding, outside "
            f"{settings.target_lufs:g} ± {settings.tolerance_lu:g} LU with a {settings.true_peak_db:g} dBTP ceiling")
    if reachable(tries, settings):
        return f"{text} after {len(tries)} encodes"
    (b0, m0), (b1, m1) = (tries[-2], tries[-1]) if len(tries) >= 2 else (tries[-1], tries[-1])
    if len(tries) >= 2 and m1.integrated < settings.target_lufs:
        return (f"{text}: the target is out of reach: {b1.trim_db - b0.trim_db:+.1f} dB more gain raised the "
                f"loudness by {m1.integrated - m0.integrated:+.1f} LU, the limiter that keeps the true peaks under "
                f"the ceiling takes back the rest (the recording's peaks stand too far above its loudness: "
                f"{best.true_peak - best.integrated:.1f} dB from its peak to its loudness after limiting"
                + ("" if settings.highpass_hz else
                   "; where they are a DC offset or low rumble, which the loudness does not count, a high-pass "
                   "in the show's [audio] removes them: highpass = 20") + ")")
    return (f"{text}: the target is out of reach: with the limiter at its floor ({LIMITER_FLOOR_DB:g} dBFS) the "
            "true peaks are still over the ceiling")


def within(measured: Loudness, settings: AudioSettings, tolerance: float | None = None) -> bool:
    """EBU R128 compliance as the show sets it: integrated within tolerance, true peak at the ceiling."""
    tolerance = settings.tolerance_lu if tolerance is None else tolerance
    return (abs(measured.integrated - settings.target_lufs) <= tolerance
            and measured.true_peak <= settings.true_peak_db)
