"""Typed keys of one table of a producer's file, read with every problem recorded, not raised.

Each problem is a `Problem` naming the file, the key (dotted, `audio.target_lufs`) and the reason;
a loader collects them all and reports them together before any work starts.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Callable

from media_pipeline.errors import Problem
from media_pipeline.util.redact import url_credentials

MISSING = object()
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_SURROGATE = re.compile("[\ud800-\udfff]")
# What XML 1.0 (feeds, pages), ID3 text frames and chat messages cannot carry, or carry only as
# garbage: the C0 controls but tab, line feed and carriage return (lxml refuses them outright),
# DEL and the C1 controls (text in Windows-1252 read as Latin-1 leaves them), and the
# non-characters U+FFFE and U+FFFF. Text pasted from a PDF or a word processor brings BEL, ESC
# or a form feed.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_CONTROL_NAMES = {0x00: "NUL", 0x07: "BEL", 0x08: "backspace", 0x0b: "vertical tab", 0x0c: "form feed",
                  0x1b: "ESC", 0x7f: "DEL"}

ONE_LINE_MAX = 255  # a title, a name: podcast apps and chat notifications cut longer lines
MULTILINE_MAX = 4000  # a summary or description: Apple's limit for itunes:summary and descriptions
URL_MAX = 2048  # the longest URL browsers and the sitemap protocol take
PATH_MAX = 4096  # Linux's longest path


def text_problem(value: str, *, multiline: bool = False, limit: int | None = None) -> str | None:
    """Why a text value cannot be published as written, or None.

    A YAML escape like "\\ud83c" yields half of a UTF-16 pair, which no UTF-8 file, tag or feed
    can hold; a control character breaks the feed's XML and the ID3 tag; a line break in a
    one-line field (a title) breaks the ID3 tag and app listings; `limit` is the most characters
    the value may have.
    """
    found = _SURROGATE.search(value)
    if found:
        return (f"holds a lone surrogate escape (\\u{ord(found.group()):04x}), half of a UTF-16 pair and not a "
                "character; write the character itself, or its 8-digit escape (e.g. \\U0001F399 for 🎙)")
    found = _CONTROL.search(value)
    if found:
        code = ord(found.group())
        name = f" ({_CONTROL_NAMES[code]})" if code in _CONTROL_NAMES else ""
        line = value.count("\n", 0, found.start()) + 1
        where = f" on its line {line}" if multiline and "\n" in value.strip() else ""
        return (f"holds the control character U+{code:04X}{name}{where}, which feeds (XML), ID3 tags and chat "
                "messages cannot carry; delete it (text pasted from a PDF or a word processor brings them)")
    if not multiline and ("\n" in value.strip() or "\r" in value.strip()):
        return "must be one line: it holds a line break"
    if limit is not None and len(value.strip()) > limit:
        return f"is {len(value.strip()):,} characters long; at most {limit:,} fit where it is shown"
    return None


def url_problem(url: str) -> str | None:
    """Why `url`, written in a producer's file, may not be used: it carries a credential."""
    if found := url_credentials(url):
        # The value itself is never repeated: it is the secret.
        return (f"holds a credential ({', '.join(found)}); URLs in these files are published or sent as "
                "written, and feeds, pages and logs would show it: remove it")
    return None


class Fields:
    """Reads typed keys from one mapping, recording problems instead of raising.

    `finish()` reports the keys nobody asked for: an unknown key is almost always a typo, and
    silently ignoring it would publish something other than what the producer wrote.
    """

    def __init__(self, data: Any, path: Path | str, problems: list[Problem], prefix: str = ""):
        self.path = str(path)
        self.problems = problems
        self.prefix = prefix
        if not isinstance(data, dict):
            self.error(None, f"must be a table of keys, not {type_name(data)}")
            data = {}
        self.data = data
        self.seen: set[str] = set()

    def name(self, key: str | None) -> str | None:
        if key is None:
            return self.prefix.rstrip(".") or None
        return f"{self.prefix}{key}"

    def error(self, key: str | None, reason: str) -> None:
        self.problems.append(Problem(self.path, self.name(key), reason))

    def raw(self, key: str, required: bool = False) -> Any:
        self.seen.add(key)
        value = self.data.get(key, MISSING)
        if value is None:
            value = MISSING
        if value is MISSING and required:
            self.error(key, "is required")
        return value

    def str(self, key: str, default: Any = None, required: bool = False, choices: tuple[str, ...] = (),
            multiline: bool = False, limit: int | None = None) -> Any:
        value = self.raw(key, required)
        if value is MISSING:
            return default
        if not isinstance(value, str):
            self.error(key, f"must be text, not {type_name(value)}")
            return default
        limit = limit or (MULTILINE_MAX if multiline else ONE_LINE_MAX)
        if reason := text_problem(value, multiline=multiline, limit=limit):
            self.error(key, reason)
            return default
        value = value.strip()
        if required and not value:
            self.error(key, "must not be empty")
            return default
        if choices and value not in choices:
            self.error(key, f"must be one of {', '.join(choices)}, not {value!r}")
            return default
        return value

    def url(self, key: str, default: Any = None, required: bool = False) -> Any:
        """Text that is a URL: it must carry no credential (`url_problem`)."""
        value = self.str(key, default, required, limit=URL_MAX)
        if value and (reason := url_problem(value)):
            self.error(key, reason)
            return default
        return value

    def env(self, key: str) -> str | None:
        """`{ env = "NAME" }`: a secret (webhook URL, token) is never written in a show file, only the
        name of the environment variable that holds it; whether it is set is checked when sending."""
        value = self.raw(key)
        if value is MISSING:
            return None
        if not (isinstance(value, dict) and set(value) == {"env"} and isinstance(value["env"], str)
                and _ENV_NAME.match(value["env"])):
            self.error(key, 'must name an environment variable, like { env = "MEDIA_PIPELINE_SLACK" }; '
                            "the secret itself never goes in the file")
            return None
        return value["env"]

    def int(self, key: str, default: Any = None, required: bool = False, minimum: int | None = None) -> Any:
        value = self.raw(key, required)
        if value is MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(key, f"must be a whole number, not {type_name(value)}")
            return default
        if minimum is not None and value < minimum:
            self.error(key, f"must be at least {minimum}, not {value}")
            return default
        return value

    def float(self, key: str, default: Any = None, required: bool = False) -> Any:
        value = self.raw(key, required)
        if value is MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(key, f"must be a number, not {type_name(value)}")
            return default
        return float(value)

    def bool(self, key: str, default: Any = None, required: bool = False) -> Any:
        value = self.raw(key, required)
        if value is MISSING:
            return default
        if not isinstance(value, bool):
            self.error(key, f"must be true or false, not {type_name(value)}")
            return default
        return value

    def str_list(self, key: str, urls: bool = False) -> tuple[str, ...]:
        value = self.raw(key)
        if value is MISSING:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(key, "must be a list of text")
            return ()
        for i, item in enumerate(value):
            reason = text_problem(item, limit=URL_MAX if urls else ONE_LINE_MAX)
            if reason is None and urls:
                reason = url_problem(item.strip())
            if reason:
                self.error(f"{key}[{i}]", reason)
                return ()
        return tuple(v.strip() for v in value)

    def table_list(self, key: str, read: Callable[["Fields"], Any]) -> tuple[Any, ...]:
        value = self.raw(key)
        if value is MISSING:
            return ()
        if not isinstance(value, list):
            self.error(key, f"must be a list, not {type_name(value)}")
            return ()
        items = []
        for i, item in enumerate(value):
            fields = Fields(item, self.path, self.problems, f"{self.name(key)}[{i}].")
            result = read(fields)
            fields.finish()
            if result is not None:
                items.append(result)
        return tuple(items)

    def table(self, key: str, required: bool = False) -> "Fields":
        value = self.raw(key, required)
        return Fields({} if value is MISSING else value, self.path, self.problems, f"{self.name(key)}.")

    def path_value(self, key: str, base: Path, required: bool = False, must_exist: bool = True) -> Path | None:
        value = self.str(key, required=required, limit=PATH_MAX)
        if not value:
            return None
        if "://" in value:
            self.error(key, "must be a file path in the workspace; URLs are not supported")
            return None
        path = (base / value).resolve() if not Path(value).is_absolute() else Path(value)
        if must_exist and not path.exists():
            self.error(key, f"file not found: {value}")
        return path

    def finish(self) -> None:
        for key in self.data:
            if key not in self.seen:
                self.error(str(key), "unknown key")


def type_name(value: Any) -> str:
    return {str: "text", int: "a number", float: "a number", bool: "true/false", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)


def read_toml(path: Path, problems: list[Problem]) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        problems.append(Problem(str(path), None, f"not valid TOML: {exc}"))
    except UnicodeDecodeError as exc:
        problems.append(Problem(str(path), None, f"is not UTF-8 text (byte {exc.start}); save it as UTF-8"))
    except OSError as exc:
        problems.append(Problem(str(path), None, f"cannot read: {exc.strerror}"))
    return {}
