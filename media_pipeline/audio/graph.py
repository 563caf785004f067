"""The plan as ffmpeg filter-graph text: segments in, gains, levelling envelope, concat, split,
limiter per branch (or one shared), `[outN]` out; and the levelling command files it reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from media_pipeline.audio import ffmpeg, levelling
from media_pipeline.audio.analysis import prefilter
from media_pipeline.audio.planning import Branch, Plan
from media_pipeline.audio.reading import BATCH, filter_value

def filter_graph(the_plan: Plan, branches: tuple[Branch, ...], sample_rate: int, *,
                 commands: Mapping[int, Path] | None = None, keep: tuple[int, ...] | None = None,
                 batched: bool = False, sources: tuple[str, ...] | None = None) -> str:
    """The -filter_complex text: segments in, gains, concat, split, limiter per branch, `[outN]` out.

    Gain is linear (`volume`), so the speech keeps its natural loudness range; the limiter only
    touches the few peaks the gain would push over the ceiling. `commands` holds the levelling command file of each levelled segment (from `write_commands`):
    its envelope runs on the input's own timeline. `keep`: only these branches get an output,
    `[out0]` on in that order, each computed as the graph of all would (a run of its own per
    output gives the very samples one run for all gives). `batched`: the inputs' frames are
    regrouped into large ones first (`reading.BATCH`), for a measuring run that writes nothing.
    `sources`: each segment decoded inside the graph (`reading.source`) instead of read from the
    run's inputs (`[i:a:0]`).
    """
    keep = tuple(range(len(branches))) if keep is None else keep
    pre = prefilter(the_plan.settings)
    layout = "mono" if the_plan.settings.channels == 1 else "stereo"
    lines, labels = [], []
    for i, segment in enumerate(the_plan.segments):
        chain = [BATCH, pre] if batched else [pre]
        if segment.analysis.levelling is not None:
            if not commands or i not in commands:
                raise ValueError(f"segment {i} is levelled: filter_graph needs its command file")
            first = segment.analysis.levelling.points[0][1]
            chain.append(f"asendcmd=f={filter_value(commands[i])},"
                         f"volume@level{i}={first:.3f}dB:eval=frame:precision=float")
        analysis = segment.analysis
        if analysis.start > 0 or analysis.end is not None:
            bounds = f"start={analysis.start:.3f}" + (f":end={analysis.end:.3f}" if analysis.end is not None else "")
            chain.append(f"atrim={bounds},asetpts=PTS-STARTPTS")
        chain.append(f"volume={segment.gain_db:.3f}dB:precision=float")
        chain.append(f"aresample={sample_rate}")
        chain.append(f"aformat=sample_fmts=fltp:channel_layouts={layout}[s{i}]")
        lines.append((f"{sources[i]}," if sources else f"[{i}:a:0]") + ",".join(chain))
        labels.append(f"[s{i}]")
    if len(labels) > 1:
        lines.append(f"{''.join(labels)}concat=n={len(labels)}:v=0:a=1[prog]")
        joined = "[prog]"
    else:
        joined = labels[0]
    shared = len(branches) > 1 and len({_limiter_key(b) for b in branches}) == 1 and branches[0].limiter_db is not None
    heads = [f"[b{k}]" for k in range(len(keep))] if len(keep) > 1 else [joined]
    if shared:
        # one limiter for every branch; each then takes its own linear gain (limiting g*x at L is
        # g times limiting x at L/g: the peak limiter is scale-invariant)
        first = branches[0]
        limited = f"{joined}volume={first.trim_db:.3f}dB:precision=float,{_limiter(first.limiter_db)}"
        if len(keep) > 1:
            lines.append(f"{limited},asplit={len(keep)}" + "".join(heads))
        else:
            heads = [f"{limited},"]
        for k, i in enumerate(keep):
            lines.append(f"{heads[k]}volume={branches[i].trim_db - first.trim_db:.3f}dB:precision=float[out{k}]")
        return ";".join(lines)
    if len(keep) > 1:
        lines.append(f"{joined}asplit={len(keep)}" + "".join(heads))
    for k, (head, branch) in enumerate(zip(heads, (branches[i] for i in keep))):
        chain = [f"{head}volume={branch.trim_db:.3f}dB:precision=float"]
        if branch.limiter_db is not None:
            chain.append(_limiter(branch.limiter_db))
        lines.append(",".join(chain) + f"[out{k}]")
    return ";".join(lines)


def _limiter(limit_db: float) -> str:
    # level=false: no auto make-up gain; latency=true (where ffmpeg has it): no delay, so video
    # stays in sync
    return f"alimiter=limit={10 ** (limit_db / 20):.5f}:attack=5:release=50:level=false{ffmpeg.alimiter_latency()}"


def _limiter_key(branch: Branch) -> float | None:
    """How hard the branch drives its limiter (trim minus limit): equal keys can share one limiter."""
    return None if branch.limiter_db is None else round(branch.trim_db - branch.limiter_db, 6)


def write_commands(the_plan: Plan, folder: Path) -> dict[int, Path]:
    """Write each levelled segment's envelope as an `asendcmd` file in `folder`: segment index -> file."""
    files = {}
    for i, segment in enumerate(the_plan.segments):
        if segment.analysis.levelling is not None:
            files[i] = folder / f"level{i}.cmd"
            files[i].write_text(levelling.commands(segment.analysis.levelling, f"volume@level{i}"), encoding="ascii")
    return files
