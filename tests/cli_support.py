"""The command line run in this process, as `media-pipeline` runs it (same exit codes, same
stdout and stderr), without the second or two a fresh interpreter costs per invocation.

A few end-to-end tests still start the real command in a child process (test_end_to_end.py,
test_cli.py, the signal tests); everything else goes through `invoke`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import Mapping

from click.testing import CliRunner

from media_pipeline import cli


@dataclass
class Invocation:
    returncode: int
    stdout: str
    stderr: str
    stdout_bytes: bytes


def invoke(*args: str, env: Mapping[str, str | None] | None = None, strip_env: tuple[str, ...] = (),
           input: str | bytes | None = None) -> Invocation:
    """`media-pipeline ARGS...` in-process; `env` is laid over os.environ (None removes a name), and
    every variable whose name starts with one of `strip_env` is removed first."""
    overlay: dict[str, str | None] = {k: None for k in os.environ if strip_env and k.startswith(strip_env)}
    overlay.update(env or {})
    runner = CliRunner()
    with runner.isolation(input=input, env=overlay) as (out, err, _):
        code = cli.run(list(args), handle_signals=False)
        stdout, stderr = out.getvalue(), err.getvalue()
    return Invocation(code, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"), stdout)


class QuietServer(ThreadingHTTPServer):
    """A test HTTP server whose request errors (a client that hung up, which fault and kill tests
    cause on purpose) go to the log: the base class prints them to sys.stderr, which a command run
    in-process would capture as its own output."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        logging.getLogger("tests.http").debug("request from %s failed", client_address, exc_info=True)
