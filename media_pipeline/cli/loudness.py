"""`media-pipeline loudness FILE`: EBU R128 integrated loudness, range and true peak of a file."""

from __future__ import annotations

from pathlib import Path

import click

from media_pipeline.audio import loudness as measuring
from media_pipeline.audio.probe import probe
from media_pipeline.cli._common import Command, progress_bar, quiet, report


@click.command("loudness", cls=Command, needs_ffmpeg=True)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def loudness_command(ctx: click.Context, file: Path) -> None:
    """Measure FILE per ITU-R BS.1770-4 / EBU R128: integrated loudness (LUFS), loudness range
    (LU) and true peak (dBTP, oversampled), as podcast apps and broadcasters count them.

    Works on any recording ffmpeg reads, including the audio of a video.

    \b
    Example:
        media-pipeline loudness media/ihmiskeskeisyys/001.wav
        media-pipeline loudness public/tekoalywebinaarit/01.mp4 --json
    """
    info = probe(file)
    with progress_bar(f"Measuring {file.name}", enabled=not quiet(ctx)) as progress:
        result = measuring.measure(file, duration=info.duration, progress=progress)
    out = report(ctx)
    out.set(file=str(file), duration=info.duration, **measuring.as_dict(result))
    out.line(f"{file}: {result.integrated:.1f} LUFS integrated, {result.lra:.1f} LU range, "
             f"{result.true_peak:.1f} dBTP true peak")
