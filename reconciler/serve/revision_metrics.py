"""The served revision's series: which one, how old, how long it took to generate and apply.

* ``reconciler_revision_info{revision}`` is 1 for the applied revision only (the previous
  revision's series is removed when the next one is applied), so
  ``count by (revision) (reconciler_revision_info)`` across replicas shows a split fleet;
* ``reconciler_revision_age_seconds`` is computed at scrape time: now minus the applied
  commit's committer time (a plain directory has no commit: its age counts from the apply);
* generation (load, validate, compile, snapshot: ``reconciler_compile_duration_seconds``,
  every attempt) and apply (publish the snapshots to the streams and record the journal)
  are histograms, and the applied revision's values are also gauges.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Gauge, Histogram

from reconciler.serve.proxy_metrics import ACK_BUCKETS


class RevisionMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.info = Gauge(
            "reconciler_revision_info",
            "1 for the applied revision (the commit SHA, or a content hash for a directory)",
            ["revision"],
            registry=r,
        )
        self.age = Gauge(
            "reconciler_revision_age_seconds",
            "now minus the commit time of the applied revision (NaN before the first)",
            registry=r,
        )
        self.apply_seconds = Histogram(
            "reconciler_revision_apply_duration_seconds",
            "publish one built revision to the snapshot cache and the journal",
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self.last_generation = Gauge(
            "reconciler_revision_last_generation_seconds",
            "generation (load, validate, compile, snapshot) of the applied revision",
            registry=r,
        )
        self.last_apply = Gauge(
            "reconciler_revision_last_apply_seconds",
            "apply duration of the applied revision",
            registry=r,
        )
        self._revision: str | None = None
        self._committed: float | None = None
        self.age.set_function(self._age)

    def published(self, revision: str, meta: Mapping[str, str]) -> None:
        """``revision``'s snapshots are served from now on; ``meta`` is the source's
        (``committed``/``time``)."""
        if revision == self._revision:
            return
        if self._revision is not None:
            self.info.remove(self._revision)
        self.info.labels(revision).set(1)
        self._revision = revision
        self._committed = commit_time(meta)

    def applied(self, *, generation: float, apply: float) -> None:
        """The durations of the revision last published, once it is recorded."""
        self.last_generation.set(generation)
        self.last_apply.set(apply)
        self.apply_seconds.observe(apply)

    def _age(self) -> float:
        if self._committed is None:
            return math.nan
        return max(0.0, time.time() - self._committed)


def commit_time(meta: Mapping[str, str]) -> float:
    """The committer time of a commit's meta (the author time if that is all there is);
    now for a revision without a commit (a plain directory)."""
    for key in ("committed", "time"):
        try:
            return float(meta[key])
        except (KeyError, ValueError):
            continue
    return time.time()
