"""Helpers for the publishing tests: run the real command line, load a workspace, read a feed."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import feedparser

from media_pipeline.config import load_catalog, load_workspace
from media_pipeline.storage import open_storage

CLI = [sys.executable, "-c", "from media_pipeline.cli import main; main()"]


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.out.splitlines() if line.strip()]


def run_cli(root: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Run:
    """`media-pipeline --root ROOT ARGS...` in a child process, as cron or a producer runs it."""
    proc = subprocess.run([*CLI, "--root", str(root), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def start_cli(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([*CLI, "--root", str(root), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


def load(root: Path):
    ws = load_workspace(root)
    catalog, problems = load_catalog(ws)
    assert not problems, problems
    return ws, catalog


def stored_feed(root: Path, show: str = "testi") -> bytes | None:
    ws = load_workspace(root)
    got = open_storage(ws.storage_url, ws.root).get_bytes(f"{show}/feed.xml")
    return got[0] if got else None


def feed_guids(root: Path, show: str = "testi") -> list[str]:
    data = stored_feed(root, show)
    if data is None:
        return []
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.bozo_exception
    return [entry.id for entry in parsed.entries]


def iso(moment: datetime) -> str:
    return moment.isoformat()
