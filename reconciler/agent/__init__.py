"""The data-plane agent: what runs beside one Envoy for the parts Envoy cannot do alone.

Kuma runs ``kuma-dp`` next to each Envoy; ``reconciler agent`` does its one job this project
needs: relaying MeshAccessLog Tcp backend lines. Envoy (configured by the control plane as
Kuma configures it) writes JSON lines ``{"address": "host:port", "message": ...}`` to the
named pipe ``/tmp/kuma-al-<dataplane>-<mesh>.sock``; the agent reads them and sends each
message to its address over TCP (:mod:`relay`). Input: the pipe. Output: TCP connections.
It never talks to the control plane and imports no compile or serve code.
"""
