"""How long importing a show takes and how much memory it holds as the feed grows: a feed of
`--sizes` items (default 200 and 2,000), each with an HTML note, persons, a JSON chapters file and
a 5-second MP3, served from 127.0.0.1. Each import runs as its own process (`media-pipeline
import`); its wall time and peak resident memory (ru_maxrss) are reported, and per item.

Memory should not grow with the number of items (the feed is read one item at a time); time
should grow linearly (each item is one download and one probe).

Run: python benchmarks/import_feed.py [--sizes 200 2000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from media_pipeline.audio import ffmpeg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from media_pipeline_demo import synth  # noqa: E402


def feed_text(items: int, base: str) -> str:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
             'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
             'xmlns:podcast="https://podcastindex.org/namespace/1.0" '
             'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
             "<title>Benchmark</title><description>A long-running show.</description><language>fi</language>"
             "<itunes:author>Ohjelma</itunes:author><itunes:owner><itunes:name>Ohjelma</itunes:name>"
             "<itunes:email>podcast@example.fi</itunes:email></itunes:owner>"
             '<itunes:category text="Technology"/>']
    for n in range(items, 0, -1):
        day = n % 28 + 1
        parts.append(
            f"<item><title>Jakso {n}: ihmiskeskeisyys &amp; tekoäly</title><guid isPermaLink=\"false\">old-{n}</guid>"
            f"<pubDate>Mon, {day:02d} Jan {2000 + n // 336} 09:{n % 60:02d}:00 +0200</pubDate>"
            f"<content:encoded><![CDATA[<p>Jakso {n} pohtii <strong>ihmiskeskeisyyttä</strong>.</p>"
            f"<ul><li>elämäntapahtumat</li><li>tekoäly</li></ul><p><a href=\"https://example.fi/{n}\">Lue</a></p>]]>"
            f"</content:encoded><itunes:duration>00:00:05</itunes:duration><itunes:episode>{n}</itunes:episode>"
            f'<podcast:chapters url="{base}/chapters.json" type="application/json+chapters"/>'
            f'<podcast:person role="guest">Vieras {n}</podcast:person>'
            f'<enclosure url="{base}/media/{n}.mp3" length="0" type="audio/mpeg"/></item>')
    parts.append("</channel></rss>\n")
    return "".join(parts)


def serve(folder: Path) -> tuple[ThreadingHTTPServer, str]:
    media = (folder / "episode.mp3").read_bytes()
    chapters = json.dumps({"version": "1.2.0", "chapters": [{"startTime": 0, "title": "Alku"},
                                                             {"startTime": 2, "title": "Keskustelu"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            if self.path.startswith("/media/"):
                body, kind = media, "audio/mpeg"
            elif self.path == "/chapters.json":
                body, kind = chapters, "application/json"
            else:
                body, kind = (folder / "feed.xml").read_bytes(), "application/rss+xml"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def run_import(items: int, seconds: float, folder: Path) -> dict:
    server, base = serve(folder)
    try:
        (folder / "feed.xml").write_text(feed_text(items, base), encoding="utf-8")
        ws = folder / f"ws-{items}"
        ws.mkdir()
        (ws / "media-pipeline.toml").write_text('storage = "file://./public"\n')
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.monotonic()
        done = subprocess.run([sys.executable, "-c", "from media_pipeline.cli import main; main()", "--root", str(ws),
                               "-q", "import", f"{base}/feed.xml", "--show", "bench"],
                              capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        wall = time.monotonic() - start
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    finally:
        server.shutdown()
    if done.returncode != 0:
        raise SystemExit(f"import of {items} items failed: {done.stderr.strip()[-500:]}")
    written = len(list((ws / "episodes" / "bench").glob("*.md")))
    return {"items": items, "imported": written, "wall_s": round(wall, 1), "per_item_ms": round(1000 * wall / items, 1),
            "peak_rss_mb": round(peak_kb / 1024, 1), "peak_rss_before_mb": round(before / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        wav = folder / "episode.wav"
        synth.speech(wav, args.seconds, level_lufs=-20, channels=1)
        ffmpeg.run(["-i", wav, "-c:a", "libmp3lame", "-b:a", "64k", "-y", folder / "episode.mp3"], what=wav)
        print(f"{'items':>6} {'imported':>8} {'wall s':>8} {'ms/item':>8} {'peak RSS MB':>12}")
        for size in sorted(args.sizes):
            # ru_maxrss of children is the largest child so far: sizes run smallest first, so a
            # larger import's figure is its own whenever it is the larger.
            result = run_import(size, args.seconds, folder)
            print(f"{result['items']:>6} {result['imported']:>8} {result['wall_s']:>8} {result['per_item_ms']:>8} "
                  f"{result['peak_rss_mb']:>12}")


if __name__ == "__main__":
    main()
