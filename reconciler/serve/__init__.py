"""Stage ``serve``: xDS (ADS over gRPC, SotW and Delta), the reconcile loop, HTTP status.

Input: snapshots in a :class:`~reconciler.snapshot.SnapshotCache` (published by the loop
from a :class:`~reconciler.source.Source` and an injected compile function). Output: Envoy
configuration on every connected proxy's ADS stream, and ``/status``, ``/metrics``,
``/config``. It never imports the compiler and never prints (the CLI does).
"""

from __future__ import annotations
