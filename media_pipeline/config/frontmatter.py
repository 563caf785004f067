"""Episode files' YAML front matter: reading it, and the one byte-preserving edit of it.

Reading keeps dates as text (`times.parse_time` reads them); the edit changes one line of the
front matter and keeps every other byte of the file, line endings included, so a producer's
file under version control shows a one-line diff.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import yaml

from media_pipeline.errors import ConfigError
from media_pipeline.util.fsutil import atomic_write

FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)


class FrontMatterLoader(yaml.SafeLoader):
    """YAML without implicit timestamps: PyYAML turns `2026-02-30 10:00:00` into a ValueError
    deep inside the parser (not a YAMLError), and reads offsets inconsistently; dates stay text
    here and `parse_time` reads them, so a bad date is a problem report, never a crash."""


FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

if hasattr(yaml, "CSafeLoader"):
    class _FastFrontMatterLoader(yaml.CSafeLoader):
        """The same rules parsed by libyaml, several times faster: a cron run reads every episode file."""

    _FastFrontMatterLoader.yaml_implicit_resolvers = FrontMatterLoader.yaml_implicit_resolvers
else:  # PyYAML built without libyaml
    _FastFrontMatterLoader = FrontMatterLoader  # type: ignore[misc]


def load_front_matter(text: str):
    """The front matter's data; a YAMLError with the pure-Python parser's message (it quotes the line)."""
    try:
        return yaml.load(text, Loader=_FastFrontMatterLoader)
    except yaml.YAMLError:
        return yaml.load(text, Loader=FrontMatterLoader)


def split_front_matter(text: str) -> tuple[str, str] | None:
    """(yaml, body) of a Markdown file with `---` front matter, or None when it has none."""
    match = FRONT_MATTER.match(text)
    if not match:
        return None
    return match.group(1), text[match.end():]


def edit_front_matter(path: Path, edit: Callable[[str], str | None], purpose: str) -> None:
    """Replace the front matter of the file at `path` with `edit(front)`, keeping every other byte.

    `edit` gets the front matter's text (without the `---` lines) and returns the new text, or
    None to leave the file untouched. The file is written beside itself, then renamed. A file
    without front matter raises ConfigError: "has no YAML front matter to `purpose`".
    """
    text = path.read_bytes().decode("utf-8")
    match = FRONT_MATTER.match(text)
    if not match:
        raise ConfigError(f"has no YAML front matter to {purpose}", path=str(path))
    front = edit(match.group(1))
    if front is None:
        return
    start, end = match.span(1)
    atomic_write(path, (text[:start] + front + text[end:]).encode("utf-8"))


def put_line(front: str, line: str, found: re.Match[str] | None) -> str:
    """`front` with the line `found` replaced by `line`, or `line` added at its end in the
    front matter's own line ending."""
    if found:
        return front[:found.start()] + line + front[found.end():]
    return front + ("\r\n" if "\r\n" in front else "\n") + line


_GUID_SET = re.compile(r"^guid:[ \t]*[\"']?([^\"'\s#]+)", re.M)
_GUID_EMPTY = re.compile(r"^#?[ \t]*guid:[^\r\n]*$", re.M)  # `guid:`, `guid: ~` or the scaffold's `# guid: ...`


def record_guid(path: Path, guid: str) -> str:
    """Write `guid: GUID` into an episode file's front matter at first publish and return the guid
    the file holds: an existing one wins (a guid never changes once assigned).

    An empty `guid:` line or the commented `# guid:` line that `new` writes is filled in, else
    the line is added at the end of the front matter.
    """
    held = guid

    def fill(front: str) -> str | None:
        nonlocal held
        existing = _GUID_SET.search(front)
        if existing and existing.group(1) not in ("~", "null"):
            held = existing.group(1)
            return None
        return put_line(front, f"guid: {guid}", _GUID_EMPTY.search(front))

    edit_front_matter(path, fill, "record the guid in")
    return held
