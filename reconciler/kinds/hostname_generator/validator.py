"""HostnameGenerator (Kuma 2.14 ``hostnamegenerator/api/v1alpha1/validate.go``).

Exactly one selector, a template that Go's ``text/template`` parses (with Kuma's ``label``
function), and an extension with a type.
"""

from __future__ import annotations

from reconciler import codes
from reconciler.model import Resource
from reconciler.validate.rules.findings import Findings, as_map
from reconciler.validate.rules.gotemplate import check_template

SELECTORS = ("meshService", "meshExternalService", "meshMultiZoneService")


def check(f: Findings, resource: Resource) -> None:
    spec = resource.spec
    selector = as_map(spec.get("selector"))
    if sum(1 for name in SELECTORS if selector.get(name) is not None) != 1:
        f.add(
            codes.SETTING_MISSING,
            ("selector",),
            "exact one selector (meshService, meshExternalService) must be defined",
        )
    template = spec.get("template")
    if template == "":
        f.add(codes.SETTING_MISSING, ("template",), "must not be empty")
    check_template(f, ("template",), template)
    extension = spec.get("extension")
    if isinstance(extension, dict) and extension.get("type") == "":
        f.add(codes.SETTING_MISSING, ("extension", "type"), "must not be empty")
    f.add(
        codes.HOSTNAMES_NOT_SERVED,
        (),
        "hostnames are reported by `reconciler inspect` and /status; no DNS serves them",
    )
