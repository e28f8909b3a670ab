"""The web console: read-only HTML pages on the HTTP port, rendered on the server.

Pages (``/console/...``, registered by ``serve/http.py``): revisions applied and refused
with their diagnostics, the diff a revision made, the proxies and their xDS state, one
proxy's effective configuration with provenance and what it is served, and which proxies a
policy selects. Every value is HTML-escaped when the page is built (:mod:`.markup`); no page
changes state; private keys are never rendered (the served configuration is ``/config``'s
redacted form, diffs mask secret values).

This ``__init__`` imports nothing: the reconcile loop's builder imports :mod:`.records`.
"""
