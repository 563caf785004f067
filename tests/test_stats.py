"""`stats`: downloads counted from access logs by the IAB podcast measurement rules, checked against
logs with a known truth in all three formats, read incrementally, and kept without IP addresses or
user agents."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from media_pipeline.config.load import load_workspace
from media_pipeline.layout import STATS_REPORT_KEY, STATS_SUMMARY_KEY
from media_pipeline.stats import clients
from media_pipeline.stats.count import MediaFile
from media_pipeline.storage import open_storage
from media_pipeline_demo import synth

from cli_support import invoke
from publish_support import manifest_of, use_s3
from stats_support import MALFORMED, Hit, cloudfront_log, combined_log, s3_log, utc

APPLE = "Podcasts/1650.20 CFNetwork/1474 Darwin/23.0.0"
ANTENNAPOD = "AntennaPod/3.4.0"
OVERCAST = "Overcast/3.0 (+http://overcast.fm/; iOS podcast app)"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
IPS = ["198.51.100.7", "2001:db8:1:2::10", "2001:db8:1:2::99", "203.0.113.9", "192.0.2.44", "66.249.66.1"]
AFTER = "2026-11-10T00:00:00+00:00"  # every day of the logs long over: all closed


@pytest.fixture(scope="module")
def published(tmp_path_factory, s3_endpoint):
    """A show on the S3 test server with two 90-second episodes, the second republished with new
    bytes, so its first key (`testi/002.mp3`) is an old key the logs still name."""
    from conftest import WorkspaceFactory, make_jpeg  # noqa: F401

    mp = pytest.MonkeyPatch()
    import boto3, uuid, os  # noqa: E401
    mp.setenv("AWS_ACCESS_KEY_ID", "testing")
    mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
    mp.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    for name in ("AWS_PROFILE", "MEDIA_PIPELINE_STORAGE", "MEDIA_PIPELINE_PUBLIC_URL", "MEDIA_PIPELINE_TIMEZONE"):
        mp.delenv(name, raising=False)
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)

    class S3:
        endpoint, bucket_name = s3_endpoint, bucket

    s3 = type("S3Env", (), {"endpoint": s3_endpoint, "bucket": bucket, "client": client,
                            "storage_url": lambda self, prefix="podcasts": f"s3://{bucket}/{prefix}"})()
    root = tmp_path_factory.mktemp("stats") / "ws"
    root.mkdir()
    ws = WorkspaceFactory(root, tmp_path_factory.mktemp("sources"))
    use_s3(ws, s3)
    ws.show()
    ws.episode("001", seconds=90.0, publish_at="2026-11-01T09:00:00+02:00")
    ws.episode("002", seconds=90.0, publish_at="2026-11-01T09:00:00+02:00")
    assert invoke("--root", str(root), "publish", "--all", "--no-notify").returncode == 0
    old = manifest_of(root, "testi").by_slug("002").media[0]
    synth.speech(root / "media" / "testi" / "002.wav", 90.0, level_lufs=-24, channels=1, seed=11)
    again = invoke("--root", str(root), "publish", "--all", "--no-notify")
    assert again.returncode == 0, again.stderr
    yield root, s3, old
    mp.undo()


def truth(root: Path, old) -> tuple[list[Hit], dict]:
    manifest = manifest_of(root, "testi")
    one = manifest.by_slug("001")
    f1, f2 = one.media[0], manifest.by_slug("002").media[0]
    assert f2.key != old.key == "testi/002.mp3", "the republished episode's bytes went to a new key"
    ws = load_workspace(root)
    store = open_storage(ws.storage_url, ws.root)
    from media_pipeline.stats.sources import header_size

    threshold = MediaFile("testi", "001", f1.key, f1.size, one.duration, one.publish_at,
                          header_size(store, f1.key)).threshold
    assert threshold < f1.size * 0.8, "a minute of a 90-second episode is well under the whole file"
    half = threshold // 2
    d1, d2, d3 = "2026-11-02", "2026-11-03", "2026-11-04"
    hits = [
        # a listener's whole download, again the same day (not counted again), again two days later
        Hit(utc(f"{d1}T08:00:00"), IPS[0], APPLE, f1.key, 200, f1.size, size=f1.size),
        Hit(utc(f"{d1}T18:00:00"), IPS[0], APPLE, f1.key, 200, f1.size, size=f1.size),
        # a 2-byte probe, then ranges over minutes from two addresses of one IPv6 /64: one download
        Hit(utc(f"{d1}T09:00:00"), IPS[1], ANTENNAPOD, f1.key, 206, 2, 0, 1, size=f1.size),
        Hit(utc(f"{d1}T09:00:01"), IPS[1], ANTENNAPOD, f1.key, 206, half, 0, half - 1, size=f1.size),
        Hit(utc(f"{d1}T09:04:00"), IPS[2], ANTENNAPOD, f1.key, 206, threshold - half + 1000, half,
            threshold + 999, size=f1.size),
        # under a minute of audio: no download
        Hit(utc(f"{d1}T10:00:00"), IPS[3], OVERCAST, f1.key, 206, half, 0, half - 1, size=f1.size),
        # a bot's whole download
        Hit(utc(f"{d1}T11:00:00"), IPS[5], GOOGLEBOT, f1.key, 200, f1.size, size=f1.size),
        # the republished episode's old key, fetched whole; a HEAD and a 304 of its current key
        Hit(utc(f"{d2}T12:00:00"), IPS[4], FIREFOX, old.key, 200, old.size, size=old.size),
        Hit(utc(f"{d2}T12:01:00"), IPS[4], FIREFOX, f2.key, 200, 0, method="HEAD", size=f2.size),
        Hit(utc(f"{d2}T12:02:00"), IPS[4], FIREFOX, f2.key, 304, 0, size=f2.size),
        # pages of the site: a person's two views, a bot's one
        Hit(utc(f"{d2}T12:03:00"), IPS[4], FIREFOX, "testi/001/index.html", 200, 5000),
        Hit(utc(f"{d1}T07:00:00"), IPS[0], FIREFOX, "index.html", 200, 4000),
        Hit(utc(f"{d1}T07:30:00"), IPS[5], GOOGLEBOT, "index.html", 200, 4000),
        # another publisher's objects
        Hit(utc(f"{d1}T12:00:00"), IPS[0], APPLE, f1.key, 200, f1.size, size=f1.size, elsewhere=True),
        # the first listener again, more than 24 hours after both earlier downloads
        Hit(utc(f"{d3}T10:00:00"), IPS[0], APPLE, f1.key, 200, f1.size, size=f1.size),
    ]
    expected = {
        "downloads": {"testi": {"001": {d1: {"AntennaPod": 1, "Apple Podcasts": 1}, d3: {"Apple Podcasts": 1}},
                                "002": {d2: {"Firefox (web browser)": 1}}}},
        "pages": {"testi/001/index.html": {d2: 1}, "index.html": {d1: 1}},
        "left_out": {"malformed line": 2, "another bucket or prefix": 1, "bot or pre-fetcher": 2,
                     "2-byte range probe": 1, "HEAD request": 1, "not modified (304)": 1},
    }
    return hits, expected


def write_log(kind: str, hits: list[Hit], root: Path, s3, dest: Path) -> Path:
    public_path = urlsplit(load_workspace(root).public_url).path.rstrip("/")
    if kind == "s3":
        text = s3_log(hits, s3.bucket, "podcasts")
    elif kind == "cloudfront":
        text = cloudfront_log(hits, public_path)
    else:
        text = combined_log(hits, public_path)
    lines = text.splitlines(keepends=True)
    at = len(lines) // 2
    lines[at:at] = MALFORMED  # garbage and a line cut short, in the middle of the log
    dest.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(lines).encode()
    if kind == "cloudfront":  # CloudFront delivers gzip
        dest = dest.with_suffix(".gz")
        data = gzip.compress(data)
    dest.write_bytes(data)
    return dest


def summary_of(root: Path) -> dict:
    ws = load_workspace(root)
    data, _ = open_storage(ws.storage_url, ws.root).get_bytes(STATS_SUMMARY_KEY)
    return json.loads(data)


def reset(root: Path) -> None:
    ws = load_workspace(root)
    store = open_storage(ws.storage_url, ws.root)
    store.delete(STATS_SUMMARY_KEY)
    store.delete(STATS_REPORT_KEY)


@pytest.mark.parametrize("kind", ["s3", "cloudfront", "combined"])
def test_stats_counts_exactly_the_known_truth_in_each_log_format(published, tmp_path, kind):
    root, s3, old = published
    reset(root)
    hits, expected = truth(root, old)
    log = write_log(kind, hits, root, s3, tmp_path / "logs" / f"access.{kind}.log")
    result = invoke("--root", str(root), "stats", str(log), "--now", AFTER, "--json")
    assert result.returncode == 0, result.stderr
    summary = summary_of(root)
    assert summary["downloads"] == expected["downloads"]
    assert summary["pages"] == expected["pages"]
    assert summary["left_out"] == expected["left_out"]
    report = json.loads(result.stdout)
    rows = {f"{e['show']}/{e['slug']}": e for e in report["episodes"]}
    assert rows["testi/001"]["downloads"] == 3 and rows["testi/001"]["first_7_days"] == 3
    assert rows["testi/002"]["downloads"] == 1 and rows["testi/002"]["first_30_days"] == 1
    assert report["by_app"] == {"Apple Podcasts": 2, "AntennaPod": 1, "Firefox (web browser)": 1}
    assert summary["open_days"] == {}, "every day of the logs is over: its key and pseudonyms are gone"


def test_a_second_run_changes_nothing_and_a_new_log_alone_is_read(published, tmp_path):
    root, s3, old = published
    reset(root)
    hits, _ = truth(root, old)
    logs = tmp_path / "logs"
    write_log("s3", hits[:8], root, s3, logs / "2026-11-02-00-00-00-A.log")
    first = invoke("--root", str(root), "stats", str(logs), "--now", AFTER)
    assert first.returncode == 0, first.stderr
    before = summary_of(root)

    again = invoke("--root", str(root), "stats", str(logs), "--now", AFTER)
    assert again.returncode == 0 and "0 log(s) read, 1 already counted" in again.stderr
    assert summary_of(root) == before

    later = [h for h in hits[8:] if h.when.date().isoformat() == "2026-11-04"]
    write_log("s3", later, root, s3, logs / "2026-11-04-00-00-00-B.log")
    third = invoke("--root", str(root), "stats", str(logs), "--now", AFTER)
    assert third.returncode == 0 and "1 log(s) read, 1 already counted" in third.stderr
    after = summary_of(root)
    assert after["downloads"]["testi"]["001"]["2026-11-04"] == {"Apple Podcasts": 1}
    assert after["logs"].keys() == {str(logs / "2026-11-02-00-00-00-A.log"), str(logs / "2026-11-04-00-00-00-B.log")}


def test_a_log_for_a_day_already_closed_is_left_out_as_late(published, tmp_path):
    root, s3, old = published
    reset(root)
    hits, _ = truth(root, old)
    logs = tmp_path / "logs"
    write_log("combined", hits[:2], root, s3, logs / "a.log")
    assert invoke("--root", str(root), "stats", str(logs), "--now", AFTER).returncode == 0
    write_log("combined", hits[2:5], root, s3, logs / "b.log")  # 2026-11-02 again, after it closed
    assert invoke("--root", str(root), "stats", str(logs), "--now", AFTER).returncode == 0
    assert summary_of(root)["left_out"]["late: day already closed"] == 3


def test_the_stored_summary_holds_no_ip_address_or_user_agent_even_while_a_day_is_open(published, tmp_path):
    root, s3, old = published
    reset(root)
    hits, _ = truth(root, old)
    log = write_log("combined", hits, root, s3, tmp_path / "access.log")
    # 2026-11-04 is still open an hour after it ended: its pseudonyms are kept, hashed
    assert invoke("--root", str(root), "stats", str(log), "--now", "2026-11-05T01:00:00+00:00").returncode == 0
    ws = load_workspace(root)
    data = open_storage(ws.storage_url, ws.root).get_bytes(STATS_SUMMARY_KEY)[0].decode()
    assert json.loads(data)["open_days"], "the day that is not over yet is still open"
    for secret in [*IPS, "2001:db8:1:2::", APPLE, ANTENNAPOD, OVERCAST, FIREFOX, GOOGLEBOT, "CFNetwork", "Gecko"]:
        assert secret not in data, f"{secret!r} is in the stored summary"


def test_an_unreadable_log_is_one_line_and_the_others_are_counted(published, tmp_path):
    root, s3, old = published
    reset(root)
    hits, _ = truth(root, old)
    log = write_log("combined", hits, root, s3, tmp_path / "ok.log")
    result = invoke("--root", str(root), "stats", str(tmp_path / "missing.log"), str(log), "--now", AFTER)
    assert result.returncode == 1
    assert "missing.log" in result.stderr and "Traceback" not in result.stderr
    assert summary_of(root)["downloads"]["testi"]["001"]


def test_serve_writes_an_access_log_that_stats_reads(workspace, tmp_path):
    import threading
    import urllib.request

    from media_pipeline.preview.server import make_server

    workspace.show()
    workspace.episode("001", seconds=6.0)
    assert invoke("--root", str(workspace.root), "publish", "--all", "--no-notify").returncode == 0
    log = tmp_path / "preview.log"
    server = make_server(workspace.root / "public", "127.0.0.1", 0, access_log=log)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        request = urllib.request.Request(f"{base}/testi/001.mp3", headers={"User-Agent": ANTENNAPOD})
        urllib.request.urlopen(request).read()
        request = urllib.request.Request(f"{base}/testi/001.mp3", headers={"User-Agent": ANTENNAPOD, "Range": "bytes=0-1"})
        urllib.request.urlopen(request).read()
    finally:
        server.shutdown()
        server.server_close()
    text = log.read_text()
    assert '"bytes=0-1"' in text and ANTENNAPOD in text
    result = invoke("--root", str(workspace.root), "stats", str(log), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["episodes"][0]["downloads"] == 1  # a 6-second episode: the whole file counts
    assert report["left_out"] == {"2-byte range probe": 1}


@pytest.mark.parametrize("agent, kind, name", [
    (APPLE, "app", "Apple Podcasts"), (ANTENNAPOD, "app", "AntennaPod"), (GOOGLEBOT, "bot", None),
    ("atc/1.0 watchOS/10.1 model/Watch6,2 hwmodel/N187bAP build/21S71 (6; dt:261)", "watch", "Apple Watch"),
    ("-", "bot", "no user agent"),
])
def test_clients_are_told_apart_by_maintained_lists(agent, kind, name):
    found = clients.classify(agent)
    assert found[0] == kind and (name is None or found[1] == name)


def test_a_listener_is_one_pseudonym_across_its_ipv6_64_and_another_on_another_day():
    day1, day2 = bytes(32), bytes([1]) * 32
    assert clients.listener(day1, "2001:db8:1:2::10", APPLE) == clients.listener(day1, "2001:db8:1:2:ffff::1", APPLE)
    assert clients.listener(day1, "2001:db8:1:2::10", APPLE) != clients.listener(day2, "2001:db8:1:2::10", APPLE)
    assert clients.listener(day1, "198.51.100.7", APPLE) != clients.listener(day1, "198.51.100.8", APPLE)


def test_logs_below_an_s3_prefix_are_read_and_listed_again_at_no_cost(published, tmp_path):
    root, s3, old = published
    reset(root)
    hits, expected = truth(root, old)
    log = write_log("s3", hits, root, s3, tmp_path / "access.log")
    s3.client.put_object(Bucket=s3.bucket, Key="logs/2026-11-05-00-00-00-ABC", Body=log.read_bytes())
    first = invoke("--root", str(root), "stats", f"s3://{s3.bucket}/logs", "--now", AFTER)
    assert first.returncode == 0, first.stderr
    assert summary_of(root)["downloads"] == expected["downloads"]
    again = invoke("--root", str(root), "stats", f"s3://{s3.bucket}/logs", "--now", AFTER)
    assert "0 log(s) read, 1 already counted" in again.stderr


def test_the_statement_tells_listeners_in_each_language_that_nothing_tracks_them(published):
    root, _, _ = published
    ws = load_workspace(root)
    store = open_storage(ws.storage_url, ws.root)
    for key, words in [("saavutettavuus/index.html", "evästeitä"), ("tillganglighet/index.html", "kakor"),
                       ("accessibility/index.html", "no cookies")]:
        page = store.get_bytes(key)[0].decode()
        assert words in page, key
