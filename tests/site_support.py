"""Shared by the listener-site tests: the demo workspace published into a tmp folder with short
generated media, and the preview server in front of it."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from media_pipeline.config.load import load_catalog, load_workspace
from media_pipeline.preview.server import make_server
from media_pipeline.publishing import publish as publish_mod
from media_pipeline_demo.demo import generate_demo_media

from config_support import copy_workspace

# The demo pages the judges look at: every kind of page (the index, both shows, an audio and a video
# episode, the statement in each language).
DEMO_PAGES = {
    "index": "index.html",
    "show": "ihmiskeskeisyys/index.html",
    "video show": "tekoalywebinaarit/index.html",
    "audio episode": "ihmiskeskeisyys/001/index.html",
    "video episode": "tekoalywebinaarit/01/index.html",
    "statement": "saavutettavuus/index.html",
    "statement sv": "tillganglighet/index.html",
    "statement en": "accessibility/index.html",
}
# One episode of each show is enough for every kind of page; fewer sources keep the test short.
KEPT = {"ihmiskeskeisyys": "001", "tekoalywebinaarit": "01"}


@dataclass
class Site:
    root: Path  # the workspace
    public: Path  # its local storage folder
    url: str  # where the preview server answers, the workspace's public_url

    def page(self, key: str) -> str:
        return f"{self.url}/{key}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def publish_demo(dest: Path, port: int) -> Site:
    root = copy_workspace(dest, placeholders=False)
    for path in (root / "episodes").glob("*/*.md"):
        if KEPT.get(path.parent.name) != path.stem:
            path.unlink()
    toml = root / "media-pipeline.toml"
    url = f"http://127.0.0.1:{port}"
    toml.write_text(toml.read_text(encoding="utf-8").replace('public_url = "http://127.0.0.1:8000"',
                                                             f'public_url = "{url}"'), encoding="utf-8")
    ws = load_workspace(root, environ={})
    generate_demo_media(ws)
    catalog, problems = load_catalog(ws)
    assert not problems, problems
    episodes = [e for eps in catalog.episodes.values() for e in eps]
    report = publish_mod.publish(ws, catalog, episodes, now=datetime(2026, 12, 1, tzinfo=timezone.utc))
    assert report.ok, report.failures
    return Site(root, root / "public", url)


class Server:
    """The preview server on 127.0.0.1 in a thread."""

    def __init__(self, root: Path, port: int):
        self.server = make_server(root, port=port)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
