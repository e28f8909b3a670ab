"""Stage ``serve``: xDS (ADS over gRPC, SotW and Delta), the reconcile loop, HTTP status.

Input: snapshots in a :class:`~reconciler.snapshot.SnapshotCache` (published by the loop
from a :class:`~reconciler.source.Source` and an injected compile function). Output: Envoy
configuration on every connected proxy's ADS stream, and ``/status``, ``/metrics``,
``/config``. It never imports the compiler and never prints (the CLI does).

Modules:

* the reconcile loop: ``loop.py`` (:class:`~reconciler.serve.loop.Reconciler`, one loop made
  of parts), ``build.py`` (a revision -> snapshots or the reason it is refused),
  ``analysis_cache.py`` (per-file results across revisions), ``history.py`` (the journal and
  restart recovery), ``versions.py`` (``<short sha>-<content hash>`` versions);
* xDS: ``ads.py`` (the gRPC servicer), ``stream.py``, ``sotw.py``, ``delta.py``,
  ``proxies.py`` (per-proxy versions, ACK/NACK);
* HTTP: ``http.py`` (routes), ``client.py`` (reading a running server), ``webhook.py``,
  ``console/`` (the read-only web console's pages, from the builder's log of recent
  revisions);
* around the loop: ``following.py`` (webhook, ``--watch``, pid file, drift), ``watch.py``;
* ``server.py`` wires one process together; ``metrics.py`` holds its Prometheus series.
"""

from __future__ import annotations
