"""One worker's share of a run split across machines by a batch engine (Kubernetes, AWS Batch).

A Kubernetes Indexed Job with `completions: N` starts N pods and gives each its index in
`JOB_COMPLETION_INDEX`; an AWS Batch array job of size N gives `AWS_BATCH_JOB_ARRAY_INDEX`. Every
worker loads the same workspace, so every worker sorts the same episodes the same way, and
worker i takes every N-th episode from the i-th: each episode is processed by exactly one
worker, without any coordination but the bucket. Each worker commits its episodes into the
show's manifest with conditional writes (concurrent commits re-read and re-apply), so the last
commit's feed names every episode; a final run renders the site's index, sitemap and OPML
(`publish --all --final`). See docs/storage.md, *Many machines*.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Sequence, TypeVar

from media_pipeline.errors import ConfigError
from media_pipeline.model import Episode

E = TypeVar("E", bound=Episode)

# Where batch engines put a worker's index, in the order they are looked for.
INDEX_VARIABLES = ("JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX")
WORKERS_VARIABLE = "MEDIA_PIPELINE_WORKERS"


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def select(self, episodes: Sequence[E]) -> list[E]:
        """This worker's episodes: every `count`-th of them in (show, slug) order, from the `index`-th."""
        ordered = sorted(episodes, key=lambda e: (e.show, e.slug))
        return ordered[self.index::self.count]


def from_environment(workers: int | None, index: int | None = None,
                     environ: Mapping[str, str] = os.environ) -> Shard | None:
    """The shard `--workers` and `--worker-index` (else the environment) name, or None for a
    whole run. The index defaults to the batch engine's variable."""
    if workers is None and (raw := environ.get(WORKERS_VARIABLE)):
        workers = _number(raw, WORKERS_VARIABLE)
    if workers is None:
        if index is not None:
            raise ConfigError("--worker-index needs --workers (or $MEDIA_PIPELINE_WORKERS): the number of workers",
                              field="--worker-index")
        return None
    if workers < 1:
        raise ConfigError(f"must be at least 1, not {workers}", field="--workers")
    if index is None:
        found = next(((name, environ[name]) for name in INDEX_VARIABLES if environ.get(name, "") != ""), None)
        if found is None:
            raise ConfigError("no worker index: set --worker-index, or run as a Kubernetes Indexed Job "
                              "(JOB_COMPLETION_INDEX) or an AWS Batch array job (AWS_BATCH_JOB_ARRAY_INDEX)",
                              field="--workers")
        index = _number(found[1], found[0])
    if not 0 <= index < workers:
        raise ConfigError(f"worker index {index} is outside 0..{workers - 1}", field="--worker-index")
    return Shard(index, workers)


def _number(raw: str, name: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"must be a whole number, not {raw!r}", field=name) from None
