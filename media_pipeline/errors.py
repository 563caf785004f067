"""The one error family of the library; each error's str() is the whole user-facing line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class PipelineError(Exception):
    """A failure the user can act on: names the file, the field and the reason."""

    def __init__(self, reason: str, *, path: str | Path | None = None, field: str | None = None):
        self.reason = reason
        self.path = str(path) if path is not None else None
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        return ": ".join(part for part in (self.path, self.field, self.reason) if part)


def os_reason(exc: OSError) -> str:
    """An OSError's reason as the phrase a line ends with: `no space left on device`, `file name too
    long`, `permission denied`."""
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


class ConfigError(PipelineError):
    """Show, episode or workspace files that cannot be used as written."""


class MediaError(PipelineError):
    """A recording, artwork or transcript that cannot be processed."""


class FFmpegError(MediaError):
    """ffmpeg ran and failed; carries only the lines that explain why."""


class StorageError(PipelineError):
    """Object storage refused or lost an operation."""


@dataclass(frozen=True)
class Problem:
    """One validation finding, as reported by `check` and the loaders."""

    path: str
    field: str | None
    reason: str
    severity: str = "error"  # "error" or "warning"
    see: str | None = None  # another file the finding concerns (the first holder of a duplicated guid)

    def __str__(self) -> str:
        return ": ".join(part for part in (self.path, self.field, self.reason) if part)


class ValidationError(ConfigError):
    """Every problem found in one pass, reported together before any work starts."""

    def __init__(self, problems: list[Problem]):
        self.problems = [p for p in problems if p.severity == "error"]
        super().__init__("\n".join(str(p) for p in self.problems))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)
