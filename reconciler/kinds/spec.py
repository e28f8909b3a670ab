"""What a kind is, as data: the one description every stage derives its registries from.

A kind's folder (``reconciler/kinds/<kind>/``) defines ``KIND = KindSpec(...)`` in its
``__init__.py``. The data here decides what the shared machinery does with the kind:
which targetRef kinds each section accepts (the shared opening check of a policy reads
:class:`Shape`), whether its fields sit under ``spec``, whether it belongs to a mesh, and
whether the compiler applies it. This module imports nothing from the stages.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    """What sort of resource the kind is (``reconciler schema --list`` groups by it)."""

    CORE = "core"
    POLICY = "policy"
    RESOURCE = "resource"
    LEGACY = "legacy"


class Scope(StrEnum):
    """Kuma's scope: mesh-scoped resources carry ``mesh``; global ones (zone proxies) do not."""

    MESH = "mesh"
    GLOBAL = "global"


@dataclass(frozen=True, slots=True)
class Shape:
    """The ``targetRef`` / ``to`` / ``from`` / ``rules`` opening of a policy (Kuma's validators).

    ``top``, ``to`` and ``from_`` list the targetRef kinds each level accepts; an empty
    ``to``/``from_`` means the section is not part of the kind. ``rules``: the kind has the
    inbound ``rules[]`` section (``rule_matches``: its entries may carry ``matches``).
    ``required``: at least one of the kind's sections must have an entry (Kuma's
    "at least one of ..." message). ``narrowed``: top-level kinds under which ``from[]`` must
    be empty and ``to[]`` accepts only ``Mesh`` (policies attached to a gateway or a route).
    ``to_defaults``: ``to[]`` entries carry a ``default`` block (routes carry ``rules``).
    ``own_sections``: the shared opening checks the top-level targetRef and which sections
    are present; the kind's validator checks the entries (their allowed kinds depend on more
    than the top-level kind). ``default_needs``: a ``default`` block must set one of these
    fields (else ``default_needs_message``, and the block is not checked further).
    ``gateway_listener_tags``: a top-level ``MeshGateway`` targetRef may select listeners by
    ``tags`` (Kuma's ``GatewayListenerTagsAllowed``). ``narrowed_to``: the ``to[]`` kinds under
    a ``narrowed`` top-level kind; ``narrowed_from``: whether ``from[]`` must then be empty.
    """

    top: tuple[str, ...]
    to: tuple[str, ...] = ()
    from_: tuple[str, ...] = ()
    rules: bool = False
    rule_matches: bool = True
    required: bool = True
    narrowed: tuple[str, ...] = ()
    to_defaults: bool = True
    own_sections: bool = False
    default_needs: tuple[str, ...] = ()
    default_needs_message: str = ""
    gateway_listener_tags: bool = True
    narrowed_to: tuple[str, ...] = ("Mesh",)
    narrowed_from: bool = True

    @property
    def sections(self) -> tuple[str, ...]:
        """The section names of the kind, in Kuma's message order."""
        present = (("from", self.from_), ("to", self.to), ("rules", self.rules))
        return tuple(name for name, on in present if on)


@dataclass(frozen=True, slots=True)
class KindSpec:
    """One Kuma kind. ``package`` is its folder under ``reconciler/kinds``.

    ``applied``: None when the compiler applies the kind (its folder has ``plugin.py``);
    otherwise the sentence that says what is ignored ("accepted, not applied"), shown as a
    warning for every resource of the kind. ``replacement``: for a legacy kind, the policy
    that replaces it. ``order``: where the kind's compile hooks run relative to other kinds.
    ``summary``: the docs line (``reconciler schema --list``, README).
    """

    name: str
    package: str
    category: Category
    summary: str
    scope: Scope = Scope.MESH
    flat: bool = False
    shape: Shape | None = None
    not_applied: str | None = None
    replacement: str | None = None
    order: int = 1000

    @property
    def applied(self) -> bool:
        return self.not_applied is None

    @property
    def is_policy(self) -> bool:
        return self.shape is not None
