"""`media-pipeline loudness FILE`: EBU R128 integrated loudness, range and true peak of a file."""

from __future__ import annotations

import json
from pathlib import Path

import click

from media_pipeline.audio import loudness as measuring
from media_pipeline.audio.probe import probe
from media_pipeline.cli._common import CONTEXT_SETTINGS, progress_bar, quiet


@click.command("loudness", context_settings=CONTEXT_SETTINGS)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.pass_context
def loudness_command(ctx: click.Context, file: Path, as_json: bool) -> None:
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
    if as_json:
        click.echo(json.dumps({"file": str(file), "duration": info.duration, **measuring.as_dict(result)}))
    else:
        click.echo(f"{file}: {result.integrated:.1f} LUFS integrated, {result.lra:.1f} LU range, "
                   f"{result.true_peak:.1f} dBTP true peak")
