"""One worker's share of a run: which episodes, and the index as batch engines give it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from media_pipeline.errors import ConfigError
from media_pipeline.publishing.shard import Shard, from_environment

from publish_support import run_cli


@dataclass(frozen=True)
class Ep:
    show: str
    slug: str


EPISODES = [Ep(show, f"{n:03d}") for show in ("b", "a") for n in range(1, 12)]


def test_every_episode_falls_to_exactly_one_worker_whatever_the_order_given():
    shares = [Shard(i, 4).select(EPISODES) for i in range(4)]
    again = [Shard(i, 4).select(list(reversed(EPISODES))) for i in range(4)]
    assert shares == again
    flat = [e for share in shares for e in share]
    assert sorted(flat, key=lambda e: (e.show, e.slug)) == sorted(EPISODES, key=lambda e: (e.show, e.slug))
    assert len(set(flat)) == len(flat) and {len(s) for s in shares} == {5, 6}


@pytest.mark.parametrize("environ, expected", [
    ({"JOB_COMPLETION_INDEX": "2", "MEDIA_PIPELINE_WORKERS": "4"}, Shard(2, 4)),  # Kubernetes Indexed Job
    ({"AWS_BATCH_JOB_ARRAY_INDEX": "0", "MEDIA_PIPELINE_WORKERS": "3"}, Shard(0, 3)),  # AWS Batch array job
    ({"JOB_COMPLETION_INDEX": "1"}, None),  # no count: a whole run
])
def test_the_index_comes_from_the_engine(environ, expected):
    assert from_environment(None, environ=environ) == expected


@pytest.mark.parametrize("workers, index, environ, says", [
    (4, None, {}, "no worker index"),
    (4, 4, {}, "worker index 4 is outside 0..3"),
    (4, None, {"JOB_COMPLETION_INDEX": "x"}, "JOB_COMPLETION_INDEX: must be a whole number"),
    (0, 0, {}, "--workers: must be at least 1"),
    (None, 1, {}, "--worker-index needs --workers"),
])
def test_a_wrong_setting_is_one_line(workers, index, environ, says):
    with pytest.raises(ConfigError, match=says):
        from_environment(workers, index, environ=environ)


def test_the_command_refuses_a_missing_index_in_one_line(workspace, monkeypatch):
    workspace.show()
    workspace.episode("001", seconds=1)
    for name in ("JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"):
        monkeypatch.delenv(name, raising=False)
    result = run_cli(workspace.root, "publish", "--all", "--workers", "3")
    assert result.code != 0 and "Traceback" not in result.err
    assert [line for line in result.err.splitlines() if line.strip()] == [
        "error: --workers: no worker index: set --worker-index, or run as a Kubernetes Indexed Job "
        "(JOB_COMPLETION_INDEX) or an AWS Batch array job (AWS_BATCH_JOB_ARRAY_INDEX)"]
    assert not (workspace.root / "public" / "testi").exists()
