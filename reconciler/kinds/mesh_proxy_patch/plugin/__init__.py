"""MeshProxyPatch: Kuma 2.14's modifications of the generated Envoy resources
(``meshproxypatch/plugin/v1alpha1/plugin.go``), applied after every other policy.

Order: the policies selecting the proxy, least specific first (Kuma's single-item rules:
their ``default`` confs merge, and ``appendModifications`` concatenate), then each policy's
modifications in list order (``ApplyMods``). :mod:`modifications` holds the five kinds.

Before the result may be published it is checked (:mod:`checks`): every resource a
modification added or changed must be a well-formed Envoy message whose typed configs Envoy
knows, meet the proto validation rules Envoy enforces, and the proxy's configuration must stay
consistent (listeners on distinct addresses, every referenced cluster and route configuration
present). A failure refuses the proxy, and so the revision, with an RC510 error at the
modification (file:line), instead of a NACK from Envoy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler import codes
from reconciler.compile.context import Hook
from reconciler.compile.plugin import PolicyBase
from reconciler.compile.resource_set import EDITABLE, Edit, EditAction, ResourceSet
from reconciler.compile.trace import Skip
from reconciler.errors import PolicyError
from reconciler.kinds.mesh_proxy_patch import KIND
from reconciler.kinds.mesh_proxy_patch.plugin import checks, modifications
from reconciler.kinds.mesh_proxy_patch.validator import Resource as ModificationKind
from reconciler.model import FieldPath, Resource

KINDS = tuple(r.value for r in ModificationKind)

Fingerprint = dict[tuple[Any, str], bytes]


def ordered_modifications(
    policies: Sequence[Resource],
) -> list[tuple[Resource, FieldPath, str, Mapping[str, Any]]]:
    """(policy, absolute path, kind, body) of every modification, in the order Kuma applies
    them."""
    out = []
    for policy in policies:
        default = policy.spec.get("default")
        mods = default.get("appendModifications") if isinstance(default, Mapping) else None
        for i, mod in enumerate(mods if isinstance(mods, list) else ()):
            if not isinstance(mod, Mapping):
                continue
            for kind in KINDS:
                body = mod.get(kind)
                if isinstance(body, Mapping):
                    path = (*policy.spec_path, "default", "appendModifications", i)
                    out.append((policy, path, kind, body))
                    break
    return out


def _fingerprint(rs: ResourceSet) -> Fingerprint:
    return {
        (type_url, name): entry.message.SerializeToString(deterministic=True)
        for type_url in EDITABLE
        for name, entry in rs.of(type_url)
    }


def _edits(
    policy: Resource, path: FieldPath, before: Fingerprint, after: Fingerprint
) -> list[Edit]:
    out = []
    for key in sorted(set(before) | set(after), key=lambda k: (str(k[0]), k[1])):
        if key not in after:
            action = EditAction.REMOVED
        elif key not in before:
            action = EditAction.ADDED
        elif before[key] != after[key]:
            action = EditAction.CHANGED
        else:
            continue
        out.append(Edit(policy, path, key[0], key[1], action))
    return out


class MeshProxyPatch(PolicyBase):
    kind = KIND.name
    hooks = frozenset({Hook.PROXY})

    def proxy_resources(
        self, resources: ResourceSet, policies: Sequence[Resource]
    ) -> tuple[Skip, ...]:
        skipped: list[Skip] = []
        before = _fingerprint(resources)
        for policy, path, kind, body in ordered_modifications(policies):
            notes: modifications.Notes = []
            try:
                modifications.apply(resources, kind, body, notes)
            except modifications.PatchFailure as exc:
                raise PolicyError(
                    f"{policy.kind} {policy.name}: modification {kind} cannot be applied: "
                    f"{exc.message}",
                    resource=policy,
                    path=(*path, *exc.field),
                    code=codes.PROXY_PATCH_INVALID,
                ) from exc
            for field, message in notes:
                skip = Skip(policy, (*path, *field), message, codes.PROXY_PATCH_FIELD_IGNORED)
                if skip not in skipped:
                    skipped.append(skip)
            after = _fingerprint(resources)
            resources.edits.extend(_edits(policy, (*path, kind), before, after))
            before = after
        problem = checks.first_problem(resources)
        if problem is not None:
            edit, message = problem
            raise PolicyError(
                f"{edit.policy.kind} {edit.policy.name}: after this modification, {message}; "
                "Envoy would reject the configuration, so nothing is published",
                resource=edit.policy,
                path=edit.path,
                code=codes.PROXY_PATCH_INVALID,
            )
        return tuple(skipped)


PLUGIN = MeshProxyPatch()
