"""Per-proxy snapshots: every resource serialized once, versioned by content.

Contract:

* A :class:`Snapshot` holds, per type URL, the proxy's resources as :class:`Encoded`
  entries (the ``Any`` bytes, a content digest) and a version. Snapshots keep no Python
  proto objects: the bytes are the source of truth (``/config`` decodes them on demand).
* A type's version is the hash of its resources' names and digests, nothing else: a pure
  function of the served content, so every replica and every restart (whatever revisions it
  saw before) names the same content with the same version. Which commit introduced a
  version is kept beside it (the journal, ``/status``), never inside it.
* :class:`Interner` makes identical resources (the same cluster in 1,000 proxies) one
  shared object: serialized once, held once, and their response bytes cached once.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from envoy.config.cluster.v3 import cluster_pb2 as envoy_cluster
from envoy.config.endpoint.v3 import endpoint_pb2 as envoy_endpoint
from envoy.config.listener.v3 import listener_pb2 as envoy_listener
from envoy.config.route.v3 import route_pb2 as envoy_route
from envoy.extensions.transport_sockets.tls.v3 import secret_pb2 as envoy_secret

from reconciler.resource_types import PUSH_ORDER, ProxyConfig, TypeUrl, resource_name
from reconciler.snapshot import wire

MESSAGE_CLASSES: dict[TypeUrl, Any] = {
    TypeUrl.LISTENER: envoy_listener.Listener,
    TypeUrl.ROUTE: envoy_route.RouteConfiguration,
    TypeUrl.CLUSTER: envoy_cluster.Cluster,
    TypeUrl.ENDPOINT: envoy_endpoint.ClusterLoadAssignment,
    TypeUrl.SECRET: envoy_secret.Secret,
}


@dataclass(frozen=True, slots=True, weakref_slot=True)
class Encoded:
    """One resource, serialized once: ``any_bytes`` is a whole ``google.protobuf.Any``."""

    type_url: str
    name: str
    digest: str
    delta_field: bytes
    """``resources`` field of a DeltaDiscoveryResponse: Resource{name, version=digest, Any}.
    The ``Any`` bytes are held only inside it (a resource is held once, not twice)."""
    any_start: int
    any_end: int

    @property
    def any_bytes(self) -> bytes:
        """The whole ``google.protobuf.Any`` (a copy sliced out of ``delta_field``)."""
        return self.delta_field[self.any_start : self.any_end]

    def message(self) -> Any:
        """The typed proto message (parsed on demand; for ``/config`` and tests)."""
        from google.protobuf import any_pb2

        packed = any_pb2.Any.FromString(self.any_bytes)
        return MESSAGE_CLASSES[TypeUrl(self.type_url)].FromString(packed.value)


_URLS = {type_url: str(type_url) for type_url in TypeUrl}
"""One plain string per type URL, shared by every :class:`Encoded` of the type."""


class Interner:
    """Deduplicates encoded resources across proxies and snapshots (weakly held)."""

    def __init__(self) -> None:
        self._by_digest: dict[str, weakref.WeakValueDictionary[str, Encoded]] = {
            url: weakref.WeakValueDictionary() for url in _URLS.values()
        }
        """Per type URL, by digest: the keys are the entries' own digest strings."""

    def encode(
        self, type_url: TypeUrl, message: Any, memo: dict[int, tuple[Any, Encoded]] | None = None
    ) -> Encoded:
        """The shared encoding of ``message``; ``memo`` (one per build) skips re-serializing
        a message object that several proxies reference (the compiler shares them)."""
        if memo is not None:
            hit = memo.get(id(message))
            if hit is not None and hit[0] is message:
                return hit[1]
            encoded = self.encode(type_url, message)
            memo[id(message)] = (message, encoded)
            return encoded
        value = message.SerializeToString(deterministic=True)
        digest = hashlib.blake2b(value, digest_size=16).hexdigest()
        url = _URLS[type_url]
        known = self._by_digest[url]
        found = known.get(digest)
        if found is not None:
            return found
        name = resource_name(message)
        any_bytes = wire.any_message(url, value)
        delta_field = wire.delta_resource_field(name, digest, any_bytes)
        start = delta_field.find(any_bytes)
        encoded = Encoded(url, name, digest, delta_field, start, start + len(any_bytes))
        known[digest] = encoded
        return encoded

    def __len__(self) -> int:
        return sum(len(known) for known in self._by_digest.values())


def content_hash(resources: Iterable[Encoded]) -> str:
    digest = hashlib.blake2b(digest_size=8)
    for res in sorted(resources, key=lambda r: r.name):
        digest.update(res.name.encode() + b"\0" + res.digest.encode() + b"\0")
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class TypeSnapshot:
    version: str
    """What ``version_info`` says: the content hash (a SotW stream that still holds clusters
    being removed sends ``<content hash>+<hash of the larger set>`` for that set)."""
    content: str
    """The content hash of ``resources``."""
    resources: Mapping[str, Encoded]


@dataclass(frozen=True, slots=True)
class Snapshot:
    node_id: str
    types: Mapping[TypeUrl, TypeSnapshot]
    eds_names: Mapping[str, str] = field(default_factory=dict)
    """EDS cluster name -> the ClusterLoadAssignment name it reads."""
    content: str = ""
    """The hash of every type's content (computed from ``types`` when not given)."""

    def __post_init__(self) -> None:
        if not self.content:
            object.__setattr__(self, "content", _snapshot_content(self.types))

    def get(self, type_url: TypeUrl) -> TypeSnapshot | None:
        return self.types.get(type_url)

    def version(self, type_url: TypeUrl) -> str:
        found = self.types.get(type_url)
        return found.version if found is not None else ""

    def to_json(self) -> dict[str, Any]:
        """What this proxy is served, as JSON (for ``/config``), with proto field names as
        ``reconciler render`` prints them, so the two can be diffed."""
        from google.protobuf import json_format

        out: dict[str, Any] = {"node": self.node_id, "versions": {}, "resources": {}}
        for type_url in PUSH_ORDER:
            found = self.types.get(type_url)
            if found is None:
                continue
            out["versions"][type_url.short] = found.version
            out["resources"][type_url.group] = [
                _redact(
                    json_format.MessageToDict(
                        found.resources[name].message(), preserving_proto_field_name=True
                    )
                )
                for name in sorted(found.resources)
            ]
        return out


def _snapshot_content(types: Mapping[TypeUrl, TypeSnapshot]) -> str:
    digest = hashlib.blake2b(digest_size=8)
    for type_url in PUSH_ORDER:
        found = types.get(type_url)
        digest.update(f"{type_url}={found.content if found else ''};".encode())
    return digest.hexdigest()


def _redact(resource: dict[str, Any]) -> dict[str, Any]:
    """Private keys of SDS secrets never leave the process (``/config``, status, logs)."""
    certificate = resource.get("tls_certificate")
    if isinstance(certificate, dict) and "private_key" in certificate:
        certificate["private_key"] = {"inline_string": "[redacted]"}
    return resource


class EncodedResources(Mapping[TypeUrl, Sequence[Any]]):
    """A :class:`ProxyConfig`'s resources held as its snapshot's :class:`Encoded` entries
    (shared bytes) instead of proto messages: each access decodes fresh messages, equal to
    the ones compiled (the encoding round-trips), in the same order."""

    __slots__ = ("_types",)

    def __init__(self, types: Mapping[TypeUrl, tuple[Encoded, ...]]) -> None:
        self._types = dict(types)

    def __getitem__(self, type_url: TypeUrl) -> list[Any]:
        return [entry.message() for entry in self._types[type_url]]

    def __iter__(self) -> Iterator[TypeUrl]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)


def compact(config: ProxyConfig, snapshot: Snapshot) -> bool:
    """Make ``config`` (and the config it extends, :attr:`ProxyConfig.base`) hold its
    resources as ``snapshot``'s encoded entries: its messages are no longer kept alive by
    it. ``snapshot`` must have been built from ``config``. Nothing changes (False) when a
    type has two resources of one name (the snapshot keeps one of them)."""
    resources = config.resources
    if isinstance(resources, EncodedResources):
        return True
    types: dict[TypeUrl, tuple[Encoded, ...]] = {}
    for type_url, messages in resources.items():
        found = snapshot.types.get(type_url)
        entries: Mapping[str, Encoded] = found.resources if found is not None else {}
        encoded = []
        for message in messages:
            entry = entries.get(resource_name(message))
            if entry is None:
                return False
            encoded.append(entry)
        if len({entry.name for entry in encoded}) != len(encoded):
            return False
        types[type_url] = tuple(encoded)
    base = config.base
    if base is not None and not isinstance(base.resources, EncodedResources):
        shared = base.resources
        if all(t in resources and resources[t] is shared[t] for t in shared):
            base.resources = EncodedResources({t: types[t] for t in shared})
    config.resources = EncodedResources(types)
    return True


TypeSets = dict[tuple[str, str], TypeSnapshot]
"""(type URL, content hash) -> the one :class:`TypeSnapshot` of that content in a build."""

EdsNames = dict[int, tuple[TypeSnapshot, Mapping[str, str]]]
"""id of a clusters :class:`TypeSnapshot` -> it and the ``eds_names`` of those clusters."""


def build_snapshot(
    config: ProxyConfig,
    interner: Interner,
    *,
    memo: dict[int, tuple[Any, Encoded]] | None = None,
    sets: TypeSets | None = None,
    eds: EdsNames | None = None,
) -> Snapshot:
    """Serialize ``config`` (check it first with :func:`check_consistency`). ``sets`` (one
    per build) makes proxies with the same resources of a type share one
    :class:`TypeSnapshot`: the replicas of a service get the same clusters, endpoints and
    routes; ``eds`` (one per build) gives proxies that share their clusters one
    ``eds_names`` mapping."""
    types: dict[TypeUrl, TypeSnapshot] = {}
    for type_url in PUSH_ORDER:
        encoded = {}
        for message in config.of(type_url):
            res = interner.encode(type_url, message, memo)
            encoded[res.name] = res
        content = content_hash(encoded.values())
        key = (str(type_url), content)
        found = sets.get(key) if sets is not None else None
        if found is None or found.resources != encoded:  # a hash collision is never shared
            found = TypeSnapshot(content, content, encoded)
            if sets is not None:
                sets[key] = found
        types[type_url] = found
    clusters = types[TypeUrl.CLUSTER]
    known = eds.get(id(clusters)) if eds is not None else None
    if known is not None and known[0] is clusters:
        return Snapshot(config.node_id, types, known[1])
    eds_names = {
        c.name: (c.eds_cluster_config.service_name or c.name)
        for c in config.of(TypeUrl.CLUSTER)
        if c.type == envoy_cluster.Cluster.EDS
    }
    if eds is not None:
        eds[id(clusters)] = (clusters, eds_names)
    return Snapshot(config.node_id, types, eds_names)
