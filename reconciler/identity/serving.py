"""The identity side of serving: secrets per proxy, timely renewal, token verification.

* :func:`attach_secrets` adds each mTLS proxy's two SDS secrets to its compiled config
  (a new :class:`ProxyConfig`; compiled objects are shared and never modified);
  :func:`with_secrets` does it for the serve loop, incrementally (:class:`SecretAttacher`:
  a proxy the revision did not change keeps its config object, secrets included).
* :func:`rotate_forever` sleeps until the next certificate is due and asks for a rebuild;
  the rebuild calls :func:`attach_secrets` again, which renews what is due, so only those
  proxies' SDS content changes and only they get a push.
* :func:`make_verifier` builds the token verifier of ``serve --proxy-auth token``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from reconciler import codes, names
from reconciler.errors import CompileError
from reconciler.identity.backend import BackendError, MtlsBackend, enabled_backend
from reconciler.identity.ca import CertificateAuthority
from reconciler.identity.issuer import IssuedCertificate, identity_uris
from reconciler.identity.provider import IdentityProvider, utc_now
from reconciler.identity.revocation import RevocationList
from reconciler.identity.rotation import seconds_until
from reconciler.identity.sds import identity_secret, mesh_ca_secret
from reconciler.identity.storage import IdentityStorageError
from reconciler.identity.tokens import load_or_create_signer, load_signer
from reconciler.identity.verifier import TokenVerifier
from reconciler.model import DEFAULT_MESH, Kind, Resource
from reconciler.resource_types import ProxyConfig, TypeUrl
from reconciler.targetref import inbound_tags, inbounds

log = logging.getLogger("reconciler.identity")

MAX_SLEEP = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class ProxyIdentity:
    node_id: str
    backend: MtlsBackend
    uris: tuple[str, ...]


def proxy_identities(resources: Iterable[Resource]) -> dict[str, ProxyIdentity]:
    """Node id -> what its certificate must say, for every proxy of an mTLS mesh."""
    return Identities()(resources)


class Identities:
    """:func:`proxy_identities` across revisions: a Dataplane resource object seen in the
    previous revision (the serve loop hands back an unchanged file's objects) keeps its
    SANs without being read again; only the Meshes (a handful) are always read."""

    def __init__(self) -> None:
        self._uris: dict[int, tuple[Resource, tuple[str, ...]]] = {}
        self._last: tuple[object, dict[str, ProxyIdentity]] | None = None

    def __call__(self, resources: Iterable[Resource]) -> dict[str, ProxyIdentity]:
        """The same dict object again when ``resources`` is the same object (an unchanged
        revision's :class:`~reconciler.pipeline.Analysis` hands back its tuple)."""
        if self._last is not None and self._last[0] is resources:
            return self._last[1]
        out = self._identities(resources)
        self._last = (resources, out)
        return out

    def _identities(self, resources: Iterable[Resource]) -> dict[str, ProxyIdentity]:
        items = list(resources)
        backends: dict[str, MtlsBackend] = {}
        for mesh_resource in (r for r in items if r.kind == Kind.MESH):
            try:
                backend = enabled_backend(mesh_resource.name, mesh_resource.data)
            except BackendError as exc:
                raise CompileError(
                    f"error[{codes.MTLS_BACKEND_UNSUPPORTED}] {exc.field}: {exc.message} "
                    f"(Mesh {mesh_resource.name})"
                ) from None
            if backend is not None:
                backends[mesh_resource.name] = backend
        out: dict[str, ProxyIdentity] = {}
        seen: dict[int, tuple[Resource, tuple[str, ...]]] = {}
        for dataplane in (r for r in items if r.kind == Kind.DATAPLANE):
            mesh = dataplane.mesh or DEFAULT_MESH
            backend = backends.get(mesh)
            if backend is None:
                continue
            known = self._uris.get(id(dataplane))
            if known is not None and known[0] is dataplane:
                uris = known[1]
            else:
                tags = [
                    {str(k): str(v) for k, v in inbound_tags(i).items()}
                    for i in inbounds(dataplane)
                ]
                uris = identity_uris(mesh, tags)
            seen[id(dataplane)] = (dataplane, uris)
            node_id = names.node_id(mesh, dataplane.name)
            out[node_id] = ProxyIdentity(node_id, backend, uris)
        self._uris = seen
        return out


def attach_secrets(
    configs: Mapping[str, ProxyConfig],
    identities: Mapping[str, ProxyIdentity],
    provider: IdentityProvider,
) -> dict[str, ProxyConfig]:
    """Configs with ``identity_cert:secret:<mesh>`` and ``mesh_ca:secret:<mesh>`` added."""
    return SecretAttacher(provider)(configs, identities)


@dataclass(frozen=True, slots=True)
class _Attached:
    compiled: ProxyConfig
    certificate: IssuedCertificate
    ca_secret: Any
    config: ProxyConfig


class SecretAttacher:
    """:func:`attach_secrets` across revisions: a proxy whose compiled config is the same
    object as before (the incremental compiler did not touch it), whose certificate was not
    renewed and whose mesh CA did not change gets back the same :class:`ProxyConfig` object
    with the same secret messages, so the snapshot stage can skip it by identity. Per proxy
    this costs a certificate lookup (the rotation check) and a few identity comparisons."""

    def __init__(self, provider: IdentityProvider) -> None:
        self.provider = provider
        self._attached: dict[str, _Attached] = {}
        self._ca: dict[str, tuple[CertificateAuthority, Any]] = {}
        self._last: tuple[object, object, dict[str, ProxyConfig]] | None = None
        self._renewal: datetime | None = None
        self._backends: list[MtlsBackend] = []

    def __call__(
        self, configs: Mapping[str, ProxyConfig], identities: Mapping[str, ProxyIdentity]
    ) -> dict[str, ProxyConfig]:
        last = self._last
        if (
            last is not None
            and last[0] is configs
            and last[1] is identities
            and not self._renewal_due()
            and all(self.provider.ca(b) is self._ca[b.mesh][0] for b in self._backends)
        ):
            return last[2]  # same compile, same identities, nothing due: O(meshes)
        out = self._attach(configs, identities)
        self._last = (configs, identities, out)
        self._backends = _backends(identities)
        self._renewal = self.provider.next_renewal()
        return out

    def _renewal_due(self) -> bool:
        return self._renewal is not None and self.provider.now() >= self._renewal

    def _attach(
        self, configs: Mapping[str, ProxyConfig], identities: Mapping[str, ProxyIdentity]
    ) -> dict[str, ProxyConfig]:
        provider = self.provider
        out: dict[str, ProxyConfig] = {}
        attached: dict[str, _Attached] = {}
        ca_secrets: dict[str, Any] = {}
        # No certificate due: a proxy whose compiled config, SANs and CA are those of its
        # last attach keeps its entry without asking the provider (no rotation check).
        nothing_due = self._renewal is not None and not self._renewal_due()
        try:
            for node_id, config in configs.items():
                identity = identities.get(node_id)
                if identity is None:
                    out[node_id] = config
                    continue
                backend = identity.backend
                ca_secret = ca_secrets.get(backend.mesh)
                if ca_secret is None:
                    ca_secret = ca_secrets[backend.mesh] = self._ca_secret(backend)
                known = self._attached.get(node_id)
                if (
                    nothing_due
                    and known is not None
                    and known.compiled is config
                    and known.ca_secret is ca_secret
                    and known.certificate.uris == identity.uris
                ):
                    attached[node_id] = known
                    out[node_id] = known.config
                    continue
                cert = provider.certificate(node_id, backend, identity.uris)
                if (
                    known is not None
                    and known.compiled is config
                    and known.certificate is cert
                    and known.ca_secret is ca_secret
                ):
                    entry = known
                else:
                    resources = dict(config.resources)
                    resources[TypeUrl.SECRET] = [identity_secret(cert), ca_secret]
                    secured = ProxyConfig(
                        config.node_id, resources, list(config.notes), base=config
                    )
                    entry = _Attached(config, cert, ca_secret, secured)
                attached[node_id] = entry
                out[node_id] = entry.config
        except IdentityStorageError as exc:
            raise CompileError(f"error[{codes.MTLS_CA_UNAVAILABLE}] {exc}") from None
        self._attached = attached
        self._ca = {mesh: self._ca[mesh] for mesh in ca_secrets}
        provider.retain(identities)
        provider.flush()
        provider.protected = frozenset(identities)
        return out

    def _ca_secret(self, backend: MtlsBackend) -> Any:
        """The mesh CA's secret message, the same object while the CA does not change."""
        authority = self.provider.ca(backend)
        known = self._ca.get(backend.mesh)
        if known is not None and known[0] is authority:
            return known[1]
        secret = mesh_ca_secret(authority)
        self._ca[backend.mesh] = (authority, secret)
        return secret


def _backends(identities: Mapping[str, ProxyIdentity]) -> list[MtlsBackend]:
    """The distinct backends ``identities`` use (one per mTLS mesh)."""
    seen: dict[str, MtlsBackend] = {}
    for identity in identities.values():
        seen.setdefault(identity.backend.mesh, identity.backend)
    return list(seen.values())


async def rotate_forever(
    provider: IdentityProvider, rebuild: Callable[[], None], stop: asyncio.Event
) -> None:
    """Call ``rebuild`` whenever a certificate is due for renewal, until ``stop``."""
    while not stop.is_set():
        upcoming = provider.next_renewal()
        # Nothing issued yet: look again soon, the first revision is being compiled.
        cap = MAX_SLEEP if upcoming is not None else timedelta(seconds=1)
        delay = seconds_until(upcoming, utc_now(), cap=cap)
        try:
            await asyncio.wait_for(stop.wait(), timeout=max(delay, 0.05))
            return
        except TimeoutError:
            pass
        due = provider.due()
        if due:
            log.info("renewing %d proxy certificate(s): %s", len(due), ", ".join(due[:5]))
            rebuild()
            await asyncio.sleep(1.0)  # let the rebuild issue before looking again


def make_verifier(
    state_dir: Path, key_file: Path | None, *, required: Callable[[str], bool] | None = None
) -> TokenVerifier:
    """Verifier for tokens signed by ``key_file`` (shared by replicas) or the state dir key;
    ``required`` limits which node ids must present one (default: all)."""
    signer = load_signer(key_file) if key_file else load_or_create_signer(state_dir)
    source = (
        f"--token-key {key_file}" if key_file else f"the signing key of --state-dir {state_dir}"
    )
    return TokenVerifier(
        [signer.public_key],
        revocations=RevocationList.in_state_dir(state_dir),
        clock=utc_now,
        required=required,
        key_source=source,
    )


def with_secrets(compile: Callable[[Any], Any], provider: IdentityProvider) -> Callable[[Any], Any]:
    """Wrap the serve loop's compile (``Analysis -> Compiled``) to add the SDS secrets.

    Incremental (:class:`Identities`, :class:`SecretAttacher`): unchanged proxies keep their
    config objects, secrets included, unless their certificate is renewed."""
    identities_of = Identities()
    attach = SecretAttacher(provider)

    def compile_with_secrets(analysis: Any) -> Any:
        compiled = compile(analysis)
        identities = identities_of(analysis.resources)
        if not identities:
            return compiled
        return dataclasses.replace(compiled, configs=attach(compiled.configs, identities))

    return compile_with_secrets
