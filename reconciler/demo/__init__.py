"""``make demo``: the sample mesh served to real Envoys, traffic through it, a live route edit.

Starts ``reconciler serve`` on a scratch copy of ``sample-repo/`` (this checkout's, or ``--repo
DIR`` when installed from a wheel, which does not ship it), one real Envoy per
Dataplane (bootstrapped with ``reconciler bootstrap``), a tiny HTTP app behind every inbound
that answers with its service, version and Dataplane, and a tiny Zipkin collector on
127.0.0.1:9411; sends requests through the frontend's outbound listeners, prints who answered
and one trace the proxies reported (sample-repo's MeshTrace); then edits the canary route in the scratch copy,
re-reads it (SIGHUP) and shows traffic follow. Every process it starts is stopped on exit,
also on ^C. Bounded: about 20 seconds, at most 60 (``--hold`` keeps it up for exploring).
"""

from __future__ import annotations
