"""An old podcast host on 127.0.0.1 for the import tests: serves a folder with HTTP byte ranges,
answers tracking-prefix URLs with redirects, and can break off or slow down a download."""

from __future__ import annotations

import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from media_pipeline.audio import ffmpeg
from media_pipeline_demo import synth

from cli_support import QuietServer
from conftest import make_jpeg

FIXTURES = Path(__file__).resolve().parent / "data" / "import"
_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")
_TYPES = {".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".json": "application/json", ".vtt": "text/vtt",
          ".srt": "application/x-subrip", ".html": "text/html", ".txt": "text/plain", ".jpg": "image/jpeg",
          ".png": "image/png", ".xml": "application/rss+xml"}


@dataclass
class OldHost:
    """What the server serves and how it misbehaves; `requests` records (path, Range header)."""

    folder: Path
    url: str = ""
    break_after: dict[str, int] = field(default_factory=dict)  # path -> bytes sent before hanging up
    slow: dict[str, float] = field(default_factory=dict)  # path -> seconds between 64 KiB chunks
    missing: set[str] = field(default_factory=set)
    requests: list[tuple[str, str | None]] = field(default_factory=list)

    def media_requests(self, name: str) -> list[str | None]:
        return [r for p, r in self.requests if p.endswith(name)]


def _handler(host: OldHost):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            host.requests.append((path, self.headers.get("Range")))
            # A tracking prefix: /track/redirect.mp3/<host>/<path> answers 302 to http://<host>/<path>
            if path.startswith("/track/"):
                rest = path.split("/", 3)[-1] if path.count("/") >= 3 else ""
                self.send_response(302)
                self.send_header("Location", f"http://{rest}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if path.startswith("/moved/"):
                self.send_response(301)
                self.send_header("Location", path.replace("/moved/", "/", 1))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            file = host.folder / path.lstrip("/")
            if path in host.missing or not file.is_file():
                self.send_error(404)
                return
            data = file.read_bytes()
            if file.suffix in (".xml", ".json"):
                data = data.replace(b"{base}", host.url.encode()).replace(b"{port}", host.url.rsplit(":", 1)[1].encode())
            start, end = 0, len(data) - 1
            status = 200
            wanted = _RANGE.match(self.headers.get("Range") or "")
            if wanted and (self.headers.get("If-Range") in (None, _etag(data))):
                start = int(wanted.group(1))
                end = int(wanted.group(2)) if wanted.group(2) else end
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.end_headers()
                    return
                status = 206
            self.send_response(status)
            self.send_header("Content-Type", _TYPES.get(file.suffix, "application/octet-stream"))
            self.send_header("Content-Length", str(end - start + 1))
            self.send_header("ETag", _etag(data))
            self.send_header("Accept-Ranges", "bytes")
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
            self.end_headers()
            body = data[start:end + 1]
            limit = host.break_after.get(path)
            if limit is not None and start < limit:
                self.wfile.write(body[:limit - start])
                self.wfile.flush()
                self.close_connection = True
                return
            pause = host.slow.get(path)
            for i in range(0, len(body), 64 << 10):
                self.wfile.write(body[i:i + (64 << 10)])
                if pause:
                    self.wfile.flush()
                    time.sleep(pause)

    return Handler


def _etag(data: bytes) -> str:
    import hashlib

    return '"' + hashlib.sha256(data).hexdigest()[:16] + '"'


class serving:
    """`with serving(folder) as host:` an OldHost on 127.0.0.1 for the block."""

    def __init__(self, folder: Path):
        self.host = OldHost(folder)

    def __enter__(self) -> OldHost:
        self.server = QuietServer(("127.0.0.1", 0), _handler(self.host))
        self.host.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self.host

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def make_mp3(path: Path, seconds: float, *, seed: int = 1, cache: Path | None = None) -> Path:
    """A speech-like MP3 as podcast hosts serve them (mono 64 kbit/s), made with ffmpeg."""
    path.parent.mkdir(parents=True, exist_ok=True)
    made = cache / f"old-host-{seconds:g}-{seed}.mp3" if cache else path
    if not made.exists():
        wav = made.with_suffix(".wav")
        synth.speech(wav, seconds, level_lufs=-20, channels=1, seed=seed)
        ffmpeg.run(["-i", wav, "-c:a", "libmp3lame", "-b:a", "64k", "-y", made], what=made)
        wav.unlink()
    if made != path:
        shutil.copyfile(made, path)
    return path


def old_host_folder(root: Path, feed: str, *, seconds: float = 8.0, cache: Path | None = None) -> Path:
    """A folder as the old host serves it: the fixture feed `feed` with its chapters, transcripts,
    artwork and generated media."""
    root.mkdir(parents=True, exist_ok=True)
    for item in (FIXTURES / feed).iterdir():
        shutil.copytree(item, root / item.name, dirs_exist_ok=True) if item.is_dir() else shutil.copyfile(item, root / item.name)
    for n in (1, 2, 3):
        make_mp3(root / "media" / f"ep{n}.mp3", seconds, seed=n, cache=cache)
    make_jpeg(root / "images" / "show.jpg", 1400)
    for n in (1, 2, 3):
        make_jpeg(root / "images" / f"ep{n}.jpg", 1400)
    return root
