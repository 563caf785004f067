"""Shared code for the publishing tests: run the real command line, load a workspace, read a feed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import feedparser

from media_pipeline.config.load import load_catalog, load_workspace
from media_pipeline.storage import open_storage

from cli_support import invoke

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
    """`media-pipeline --root ROOT ARGS...` run in this process (tests/cli_support.py): the same
    exit code, stdout and stderr as the command cron or a producer runs. `timeout` is unused here."""
    result = invoke("--root", str(root), *args, env=env)
    return Run(result.returncode, result.stdout, result.stderr)


def start_cli(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """The real command in a child process, for tests of concurrent runs."""
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


def use_s3(workspace, s3, prefix: str = "podcasts", shows: tuple[str, ...] = ("testi", "webinaari")) -> str:
    """Point the workspace at the test bucket; its public URL is the bucket's own (path-style) URL,
    which answers anonymous GETs like a public bucket would: the bucket policy grants anonymous
    read of the show folders and the OPML only, never of `_private/`. Returns that public URL."""
    public = f"{s3.endpoint}/{s3.bucket}/{prefix}"
    resources = [f"arn:aws:s3:::{s3.bucket}/{prefix}/{show}/*" for show in shows]
    resources.append(f"arn:aws:s3:::{s3.bucket}/{prefix}/shows.opml")
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": resources}]}
    s3.client.put_bucket_policy(Bucket=s3.bucket, Policy=json.dumps(policy))
    (workspace.root / "media-pipeline.toml").write_text(
        f'storage = "{s3.storage_url(prefix)}"\npublic_url = "{public}"\ntimezone = "Europe/Helsinki"\n')
    return public


def bucket_state(s3) -> dict[str, str]:
    """Every object in the bucket with its etag: equal states mean nothing was written in between
    that changed anything (request counting covers identical rewrites)."""
    state = {}
    for page in s3.client.get_paginator("list_objects_v2").paginate(Bucket=s3.bucket):
        for obj in page.get("Contents", []):
            state[obj["Key"]] = obj["ETag"]
    return state


class RequestLog:
    """Counts the requests that reach the S3 server, by operation, as the server sees them.

    A FaultProxy (tests/s3_faults.py) is put between the code under test and the `s3` fixture's
    server, and AWS_ENDPOINT_URL points at it, so every storage opened afterwards in this process
    or a child process is counted, however its boto3 client was made.
    """

    def __init__(self, s3, monkeypatch):
        from s3_faults import FaultProxy

        self.proxy = FaultProxy(s3.endpoint)
        monkeypatch.setenv("AWS_ENDPOINT_URL", self.proxy.url)

    @property
    def calls(self) -> list[str]:
        return [_operation(seen.method, seen.path) for seen in self.proxy.log]

    def reset(self) -> None:
        self.proxy.log.clear()

    def count(self, operation: str | None = None) -> int:
        calls = self.calls
        return len(calls) if operation is None else calls.count(operation)


def _operation(method: str, path: str) -> str:
    """The S3 operation of a request, from its method and whether it names an object or a listing.
    The question a run's first write asks about conditional writes (a probe object's PUTs and
    DELETE below `_private/probe/`) is named apart, so counts of a run's own objects leave it out."""
    if "/_private/probe/" in path:
        return f"Probe{method.title()}"
    if "?" in path and method == "GET":
        return "ListObjects" if "list-type" in path or "prefix=" in path else "GetBucket"
    return {"GET": "GetObject", "HEAD": "HeadObject", "PUT": "PutObject", "DELETE": "DeleteObject",
            "POST": "PostObject"}.get(method, method)


def cli_here(capsys, root: Path, *args: str) -> Run:
    """The command line run in this process (so RequestLog sees its requests)."""
    from media_pipeline.cli import main

    saved = sys.argv
    sys.argv = ["media-pipeline", "--root", str(root), *args]
    capsys.readouterr()
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = saved
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def manifest_of(root: Path, show: str = "testi"):
    from media_pipeline.publishing.manifest import read_manifest

    ws = load_workspace(root)
    return read_manifest(open_storage(ws.storage_url, ws.root), show)[0]
