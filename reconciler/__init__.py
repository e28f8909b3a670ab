"""reconciler: a GitOps control plane for an Envoy service mesh (Kuma universal format)."""

__version__ = "0.1.0"
