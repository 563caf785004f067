"""Many machines publishing to one bucket: three hosts at once on every S3 server, and the
per-episode work of one `publish --all` shared by workers as a Kubernetes Indexed Job starts them.

Each host or worker is a copy of the workspace (its own lock folder, build cache and work folder,
as on separate machines) running the real command in a process of its own; what they leave is
read back with feedparser and the raw boto3 client.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import feedparser
import pytest

from conftest import s3_env_on
from publish_support import start_cli

T0 = datetime(2026, 9, 1, 6, 0, tzinfo=timezone.utc)


def point_at(root: Path, storage_url: str, public_url: str) -> None:
    (root / "media-pipeline.toml").write_text(
        f'storage = "{storage_url}"\npublic_url = "{public_url}"\ntimezone = "Europe/Helsinki"\n', encoding="utf-8")


def objects(s3, prefix: str = "podcasts/") -> dict[str, int]:
    pages = s3.client.get_paginator("list_objects_v2").paginate(Bucket=s3.bucket, Prefix=prefix)
    return {o["Key"]: o["Size"] for page in pages for o in page.get("Contents", [])}


def finish(runs) -> list[tuple[int, str, str]]:
    results = [(p.wait(timeout=600), *p.communicate()) for p in runs]
    for code, out, err in results:
        assert "Traceback" not in out + err, out + err
    return results


def three_hosts(workspace, tmp_path, s3, rounds: int) -> None:
    """Three copies of a workspace (as three machines with a clone of the same repository: every
    episode file everywhere), each publishing a different new episode every round at the same
    moment as the other two, with no lock folder in common."""
    public = f"{s3.endpoint}/{s3.bucket}/podcasts"
    point_at(workspace.root, f"s3://{s3.bucket}/podcasts", public)  # no single_publisher: three publishers
    workspace.show()
    hosts = [workspace.root] + [Path(shutil.copytree(workspace.root, tmp_path / f"host{i}")) for i in (1, 2)]
    published: list[str] = []
    for r in range(1, rounds + 1):
        for root in hosts:
            workspace.root = root
            for i in range(3):
                workspace.episode(f"h{i}r{r:02d}", seconds=2, publish_at=T0.isoformat())
        now = (T0 + timedelta(hours=r)).isoformat()
        results = finish([start_cli(root, "publish", f"testi/h{i}r{r:02d}", "--now", now)
                          for i, root in enumerate(hosts)])
        if not s3.conditional_writes:
            for code, out, err in results:
                assert code == 1 and "ignores conditional writes" in err and "single_publisher=true" in err, err
            # refused before any public change: no key outside _private/ (the probe deletes its object)
            assert [k for k in objects(s3) if not k.startswith("podcasts/_private/")] == [], f"round {r}"
            # and before the audio work: a new episode is never encoded for a write that cannot happen
            assert not any((root / ".media-pipeline").rglob("*.mp3")), f"round {r}: encoded, then refused"
            continue
        for code, out, err in results:
            assert code == 0, f"round {r}: {out}\n{err}"
        published += [f"h{i}r{r:02d}" for i in range(3)]
        feed = feedparser.parse(s3.client.get_object(Bucket=s3.bucket, Key="podcasts/testi/feed.xml")["Body"].read())
        assert not feed.bozo
        assert sorted(e.title for e in feed.entries) == sorted(f"Jakso {slug}" for slug in published), f"round {r}"
        stored = objects(s3)
        for entry in feed.entries:
            enclosure = entry.enclosures[0]
            key = "podcasts/" + enclosure.href.split(public + "/", 1)[1]
            assert stored.get(key) == int(enclosure.length), f"round {r}: {enclosure.href}"


@pytest.mark.parametrize("server", ["moto", "rclone", "s3rver"])
def test_three_hosts_publishing_at_once_lose_nothing_or_are_refused(workspace, tmp_path, request, monkeypatch,
                                                                     server):
    three_hosts(workspace, tmp_path, s3_env_on(request, monkeypatch, server), rounds=1)


@pytest.mark.slow
@pytest.mark.parametrize("server", ["moto", "rclone", "s3rver"])
def test_ten_rounds_of_three_hosts_at_once(workspace, tmp_path, request, monkeypatch, server):
    three_hosts(workspace, tmp_path, s3_env_on(request, monkeypatch, server), rounds=10)


def workers_and_one_machine(workspace, tmp_path, request, monkeypatch, *, workers: int, episodes: int) -> None:
    """`publish --all` of one show split across `workers` processes given their index as a
    Kubernetes Indexed Job gives it, then the final step; and the same show published by one
    machine to another bucket. Same public URL, same --now: the feeds must be the same bytes."""
    workspace.show()
    for n in range(1, episodes + 1):
        guid = uuid.uuid5(uuid.NAMESPACE_URL, f"https://example.fi/testi/{n}")
        workspace.episode(f"e{n:02d}", seconds=1.5, publish_at=T0.isoformat(), extra=f"guid: {guid}\n")
    public = "https://cdn.example.fi/podcasts"  # where listeners fetch from: the same for both
    now = (T0 + timedelta(hours=1)).isoformat()

    alone = s3_env_on(request, monkeypatch, "moto")
    single = Path(shutil.copytree(workspace.root, tmp_path / "single"))
    point_at(single, f"s3://{alone.bucket}/podcasts", public)
    code, out, err = finish([start_cli(single, "publish", "--all", "--now", now)])[0]
    assert code == 0, err

    shared = s3_env_on(request, monkeypatch, "moto")
    copies = []
    for i in range(workers):
        root = Path(shutil.copytree(workspace.root, tmp_path / f"worker{i}"))
        point_at(root, f"s3://{shared.bucket}/podcasts", public)
        copies.append(root)
    runs = [start_cli(root, "publish", "--all", "--now", now,
                      env={"JOB_COMPLETION_INDEX": str(i), "MEDIA_PIPELINE_WORKERS": str(workers)})
            for i, root in enumerate(copies)]
    results = finish(runs)
    done: list[set[str]] = []
    for code, out, err in results:
        assert code == 0, err
        done.append(set(re.findall(r"^(testi/e\d+): live", out, re.M)))
    everyone = [key for share in done for key in share]
    assert sorted(everyone) == [f"testi/e{n:02d}" for n in range(1, episodes + 1)], "each episode by exactly one worker"
    assert all(share for share in done), done
    final = finish([start_cli(copies[0], "publish", "--all", "--final", "--now", now)])[0]
    assert final[0] == 0, final[2]

    def public_objects(s3) -> dict[str, bytes]:
        return {k: s3.client.get_object(Bucket=s3.bucket, Key=k)["Body"].read()
                for k in objects(s3) if not k.startswith("podcasts/_private/")}

    theirs, ours = public_objects(shared), public_objects(alone)
    assert theirs["podcasts/testi/feed.xml"] == ours["podcasts/testi/feed.xml"]
    assert len(feedparser.parse(theirs["podcasts/testi/feed.xml"]).entries) == episodes
    assert theirs == ours  # media, pages, sitemap, OPML: the same keys and bytes


def test_two_workers_share_a_publish_and_give_the_feed_one_machine_gives(workspace, tmp_path, request, monkeypatch):
    workers_and_one_machine(workspace, tmp_path, request, monkeypatch, workers=2, episodes=4)


@pytest.mark.slow
def test_four_workers_publish_a_40_episode_show_as_one_machine_would(workspace, tmp_path, request, monkeypatch):
    workers_and_one_machine(workspace, tmp_path, request, monkeypatch, workers=4, episodes=40)
