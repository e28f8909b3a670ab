"""Every diagnostic code, its default severity and its explanation: the one place they live.

Ranges: RC1xx YAML and files, RC2xx schema, RC3xx semantic (one resource), RC4xx
cross-resource, RC5xx compile, RC6xx serve and source. A code, once published, keeps its
meaning; retire a code rather than reuse it. ``reconciler explain-code CODE`` prints the
explanation, and ``docs/codes.md`` is generated from this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]


@dataclass(frozen=True, slots=True)
class CodeInfo:
    code: str
    severity: Severity
    """The default severity; a diagnostic may state another (``at_spec(..., severity=)``)."""
    title: str
    explanation: str
    refuses_serving: bool = False
    """A finding `serve` refuses to publish although its severity is below error: Kuma accepts
    the resource, but Envoy would reject the configuration made from it."""


# --- RC1xx: files and YAML (reconciler/load) ---------------------------------------------
YAML_SYNTAX = "RC101"
YAML_DUPLICATE_KEY = "RC102"
YAML_TAB = "RC103"
FILE_NOT_UTF8 = "RC104"
YAML_EMPTY_DOCUMENT = "RC105"
DOC_NOT_MAPPING = "RC106"
TYPE_MISSING = "RC107"
TYPE_UNKNOWN = "RC108"
NAME_MISSING = "RC109"
YAML_ALIAS_LIMIT = "RC110"
YAML_DEPTH_LIMIT = "RC111"
FILE_TOO_LARGE = "RC112"
FILE_UNREADABLE = "RC113"
YAML_UNSUPPORTED_VALUE = "RC114"

# --- RC2xx: JSON Schema (reconciler/validate/schema.py) ----------------------------------
SCHEMA_UNKNOWN_FIELD = "RC201"
SCHEMA_REQUIRED = "RC202"
SCHEMA_TYPE = "RC203"
SCHEMA_ENUM = "RC204"
SCHEMA_PATTERN = "RC205"
SCHEMA_RANGE = "RC206"
SCHEMA_LENGTH = "RC207"
SCHEMA_ONE_OF = "RC208"
SCHEMA_OTHER = "RC209"

# --- RC3xx: semantic rules of one resource (reconciler/validate/rules) -------------------
# (codes are added by the rule families; keep them grouped by family)
TARGETREF_KIND = "RC301"
TARGETREF_FIELD = "RC302"
POLICY_SECTIONS = "RC303"
SETTING_MISSING = "RC304"
DURATION_INVALID = "RC305"
NUMBER_RANGE = "RC306"
VALUE_NOT_ALLOWED = "RC307"
NAME_FORMAT = "RC308"
SETTINGS_CONFLICT = "RC309"
DATAPLANE_NETWORKING = "RC310"
DATAPLANE_SERVICE_TAG = "RC311"
DATAPLANE_ADMIN_PORT = "RC312"
MESH_MTLS = "RC313"
MESH_BACKENDS = "RC314"
REGEX_REJECTED_BY_ENVOY = "RC315"
NOT_APPLIED = "RC320"
# resources that are not policies (reconciler/kinds: zone proxies, identities, services)
ZONE_PROXY_NETWORKING = "RC340"
TEMPLATE_INVALID = "RC341"
CA_BUNDLE_INVALID = "RC342"
EXTERNAL_WITHOUT_EGRESS = "RC343"
HOSTNAMES_NOT_SERVED = "RC344"

# legacy kinds (reconciler/kinds/<legacy kind>, validate/rules/selectors.py): RC360-RC379
LEGACY_SELECTOR = "RC360"
ENVOY_RESOURCE_INVALID = "RC361"

# --- RC4xx: cross-resource checks (reconciler/validate/rules/cross_*.py) ------------------
DUPLICATE_RESOURCE = "RC401"
UNKNOWN_MESH = "RC402"
UNKNOWN_SERVICE = "RC403"
UNKNOWN_OUTBOUND_SERVICE = "RC404"
SELECTS_NO_PROXY = "RC405"
PORT_COLLISION = "RC406"
IMPLICIT_DEFAULT_MESH = "RC407"

# --- RC5xx: compile (reconciler/compile) -------------------------------------------------
PROXY_COMPILE_FAILED = "RC501"
COMPILE_SKIPPED = "RC502"
ROUTE_NO_BACKEND = "RC503"
"""Reported by validation (Kuma accepts the route), in the compile range where it began."""
ROUTE_SHADOWED = "RC504"
OUTBOUND_UNRESOLVED = "RC505"
# MeshProxyPatch (reconciler/kinds/mesh_proxy_patch): RC510-RC519
PROXY_PATCH_INVALID = "RC510"
PROXY_PATCH_FIELD_IGNORED = "RC511"
# identity (reconciler/identity, mTLS in compile): RC590-RC599
MTLS_BACKEND_UNSUPPORTED = "RC590"
MTLS_CA_UNAVAILABLE = "RC591"

# --- RC6xx: serve and source (reconciler/serve, reconciler/source) -----------------------
# serve (reconciler/serve, reconciler/snapshot): RC600-RC619
UNKNOWN_NODE = "RC601"
SNAPSHOT_INCONSISTENT = "RC602"
PROXY_NACK = "RC603"
NODE_ID_MISSING = "RC604"
REVISION_REJECTED = "RC605"
COMPILE_FAILED = "RC606"
REVISION_EMPTY = "RC607"
# identity (proxy tokens on xDS streams): RC620-RC629
PROXY_TOKEN_REJECTED = "RC620"
# source (reconciler/source): RC650-RC669
SOURCE_SYMLINK = "RC650"
SOURCE_SUBMODULE = "RC651"
SOURCE_UNREACHABLE = "RC652"
SOURCE_AUTH = "RC653"
SOURCE_BRANCH_DELETED = "RC654"
SOURCE_TIMEOUT = "RC655"
SOURCE_CORRUPTED_CACHE = "RC656"
SOURCE_REFUSED = "RC657"
SOURCE_GIT_FAILED = "RC658"
SOURCE_LOCKED = "RC659"


_FILES_AND_SCHEMA: tuple[CodeInfo, ...] = (
    CodeInfo(
        YAML_SYNTAX,
        Severity.ERROR,
        "invalid YAML",
        "The file is not valid YAML (or JSON). The message quotes the parser; fix the syntax at "
        "the position shown. Nothing in this document is validated until it parses.",
    ),
    CodeInfo(
        YAML_DUPLICATE_KEY,
        Severity.ERROR,
        "duplicate mapping key",
        "A key appears twice in one mapping. YAML parsers disagree on which value wins, so the "
        "reconciler refuses the document. The message names the line of the first occurrence.",
    ),
    CodeInfo(
        YAML_TAB,
        Severity.ERROR,
        "tab character in indentation",
        "YAML forbids tabs for indentation. Replace the tab with spaces.",
    ),
    CodeInfo(
        FILE_NOT_UTF8,
        Severity.ERROR,
        "file is not UTF-8",
        "Resource files must be UTF-8. The position points at the first byte that does not "
        "decode; re-save the file as UTF-8.",
    ),
    CodeInfo(
        YAML_EMPTY_DOCUMENT,
        Severity.WARNING,
        "empty document",
        "A YAML document (between `---` separators) holds nothing. It is skipped; remove it or "
        "the stray separator.",
    ),
    CodeInfo(
        DOC_NOT_MAPPING,
        Severity.ERROR,
        "document is not a mapping",
        "Each document must be a mapping with at least `type` and `name` (a list or a scalar "
        "is not a resource).",
    ),
    CodeInfo(
        TYPE_MISSING,
        Severity.ERROR,
        "missing `type`",
        "Every resource needs `type:` naming its kind, e.g. `type: MeshTimeout`.",
    ),
    CodeInfo(
        TYPE_UNKNOWN,
        Severity.ERROR,
        "unknown `type`",
        "The `type` is not a kind the reconciler reads. The message suggests the closest known "
        "kind; `reconciler schema --list` prints them all.",
    ),
    CodeInfo(
        NAME_MISSING,
        Severity.ERROR,
        "missing `name`",
        "Every resource needs a non-empty string `name:`.",
    ),
    CodeInfo(
        YAML_ALIAS_LIMIT,
        Severity.ERROR,
        "too many nodes (alias expansion)",
        "The document expands to more nodes than the loader allows (aliases that refer to "
        "aliases grow exponentially: a 'billion laughs' file). Write the values out, or split "
        "the document.",
    ),
    CodeInfo(
        YAML_DEPTH_LIMIT,
        Severity.ERROR,
        "nesting too deep",
        "The document nests deeper than the loader allows. No Kuma resource needs that depth.",
    ),
    CodeInfo(
        FILE_TOO_LARGE,
        Severity.ERROR,
        "file too large",
        "The file is larger than the size limit (`--max-file-size`, default 1 MiB). Split it, or "
        "raise the limit if it really is one mesh file.",
    ),
    CodeInfo(
        FILE_UNREADABLE,
        Severity.ERROR,
        "file cannot be read",
        "The file exists but could not be read (permissions, a broken symlink, a directory "
        "named like a file).",
    ),
    CodeInfo(
        YAML_UNSUPPORTED_VALUE,
        Severity.ERROR,
        "unsupported YAML value",
        "The value uses a YAML feature with no JSON equivalent (a non-string mapping key, a "
        "binary, a set, a custom tag). Write it as a plain string, number, list or mapping.",
    ),
    CodeInfo(
        SCHEMA_UNKNOWN_FIELD,
        Severity.ERROR,
        "unknown field",
        "The field is not part of the kind in Kuma 2.14. Kuma drops unknown fields silently; "
        "the reconciler rejects them so a typo never goes unnoticed. The message suggests the "
        "closest known field (or lists the allowed ones); `reconciler schema KIND` prints "
        "every field with its documentation.",
    ),
    CodeInfo(
        SCHEMA_REQUIRED,
        Severity.ERROR,
        "required field missing",
        "A field the kind requires is absent (Kuma 2.14 rejects the resource without it). The "
        "field path names the missing field; the position is that of its parent.",
    ),
    CodeInfo(
        SCHEMA_TYPE,
        Severity.ERROR,
        "wrong value type",
        "The value has the wrong type (e.g. a string where a number is expected, or a mapping "
        "where a list is expected). Quote values YAML would otherwise read as numbers or "
        'booleans, e.g. label and tag values like `"1.0"` or `"true"`.',
    ),
    CodeInfo(
        SCHEMA_ENUM,
        Severity.ERROR,
        "value not allowed",
        "The value is not one of the allowed values, which the message lists (with the "
        "closest one when it looks like a typo). Values are case-sensitive, as in Kuma.",
    ),
    CodeInfo(
        SCHEMA_PATTERN,
        Severity.ERROR,
        "value has the wrong format",
        "The value does not match the expected format: a pattern (header names, a protobuf "
        "duration in seconds like `10s` in Mesh and Dataplane fields, a Go duration like "
        "`300ms` or `1m30s` in legacy kinds, ...) or a format such as the RFC 3339 "
        "`date-time` of `creationTime`.",
    ),
    CodeInfo(
        SCHEMA_RANGE,
        Severity.ERROR,
        "value out of range",
        "A number is outside its allowed range (Dataplane ports 1-65535, status codes, "
        "non-negative counters, ...).",
    ),
    CodeInfo(
        SCHEMA_LENGTH,
        Severity.ERROR,
        "wrong length",
        "A string, list or mapping is too short or too long.",
    ),
    CodeInfo(
        SCHEMA_ONE_OF,
        Severity.ERROR,
        "ambiguous or missing alternative",
        "The value must take exactly one of several forms, e.g. a data source with exactly "
        "one of `secret`, `file`, `inline`, `inlineString`. When the value clearly means one "
        "form (by its type, or its `type`/`kind` field) the errors of that form are reported "
        "instead.",
    ),
    CodeInfo(
        SCHEMA_OTHER,
        Severity.ERROR,
        "schema violation",
        "The value violates a rule of the kind's schema not covered by the codes above; the "
        "message names the rule.",
    ),
)

_SEMANTIC: tuple[CodeInfo, ...] = (
    CodeInfo(
        TARGETREF_KIND,
        Severity.ERROR,
        "targetRef kind not allowed here",
        "The `kind` of a targetRef is missing or is not one Kuma 2.14 accepts at this place. "
        "Each policy kind allows its own set of kinds at the top level, in `to[]`, in `from[]` "
        "and in backendRefs (e.g. MeshHTTPRoute `to[]` needs a MeshService; MeshTimeout `from[]` "
        "takes only `Mesh`). The message lists the kinds allowed there.",
    ),
    CodeInfo(
        TARGETREF_FIELD,
        Severity.ERROR,
        "targetRef field not valid for its kind",
        "A targetRef field is required, forbidden or malformed for the targetRef's kind: "
        "`kind: Mesh` takes no name, tags, labels or sectionName; MeshService needs `name` "
        "(or `labels`, not both); MeshSubset takes `tags`, not `name`; Dataplane takes `name` "
        "or `labels` and `sectionName` only in inbound policies. Names use lower case "
        "alphanumerics, '-', '.' and '_'.",
    ),
    CodeInfo(
        POLICY_SECTIONS,
        Severity.ERROR,
        "to/from/rules sections missing or combined wrongly",
        "A policy needs the sections its kind works with, and some may not be combined: e.g. "
        "MeshTimeout needs at least one of `to`, `from` or `rules`, and `rules` excludes `to` "
        "and `from`; MeshTrafficPermission needs `from` or `rules`; MeshRetry needs `to`. A "
        "section may also be forbidden by the top-level targetRef (no `from` with a "
        "MeshHTTPRoute or MeshGateway target).",
    ),
    CodeInfo(
        SETTING_MISSING,
        Severity.ERROR,
        "required setting missing",
        "A `default` (or one of its blocks) is empty or lacks the setting that gives it "
        "meaning, as Kuma 2.14 requires: e.g. 'at least one timeout should be configured', "
        "a MeshRateLimit without `local`, a MeshTrafficPermission `from[]` without `action`.",
    ),
    CodeInfo(
        DURATION_INVALID,
        Severity.ERROR,
        "invalid duration",
        "A duration is not a Go duration string, or is out of its range. Write a number with "
        "a unit: `300ms`, `1s`, `1.5s`, `1h30m`, `300us` (units ns, us, ms, s, m, h). Some "
        "durations must be greater than zero (e.g. `connectionTimeout`), others only not "
        "negative (e.g. `idleTimeout`, where `0s` disables the timeout).",
    ),
    CodeInfo(
        NUMBER_RANGE,
        Severity.ERROR,
        "number out of range",
        "A number is outside the range Kuma 2.14 accepts: ports 1-65535, percentages 0-100, "
        "HTTP status codes 100-599, counts and thresholds greater than 0.",
    ),
    CodeInfo(
        VALUE_NOT_ALLOWED,
        Severity.ERROR,
        "value not allowed",
        "A value is not one Kuma 2.14 knows at this place (an unknown `retryOn` condition, "
        "host-selection predicate, protocol, TLS mode or match type). The message names the "
        "allowed values.",
    ),
    CodeInfo(
        NAME_FORMAT,
        Severity.ERROR,
        "invalid name, tag or hostname",
        "A name, tag or hostname uses characters Kuma rejects. Tag names allow alphanumerics, "
        "'.', '-', '_', ':' and '/'; tag values alphanumerics, '.', '-', '_' and ':'; "
        "hostnames are RFC 1123 names (no IP addresses where a hostname is required).",
    ),
    CodeInfo(
        SETTINGS_CONFLICT,
        Severity.ERROR,
        "conflicting settings",
        "Two settings cannot be used together, or a setting is not allowed in this context: "
        "e.g. `connectionTimeout` with a top-level MeshHTTPRoute target, `hostnames` outside "
        "a MeshGateway route, `replacePrefixMatch` with matches that are not all path "
        "prefixes, or the same header modified twice.",
    ),
    CodeInfo(
        DATAPLANE_NETWORKING,
        Severity.ERROR,
        "invalid Dataplane networking",
        "The Dataplane's networking is invalid for Kuma 2.14: `networking.address` must be an "
        "IP address or DNS name other than 0.0.0.0 or ::; ports are 1-65535; addresses in "
        "inbounds and outbounds must be IP addresses; an inbound's `serviceAddress:servicePort` "
        "must differ from its `address:port`; a proxy needs at least one inbound or a gateway.",
    ),
    CodeInfo(
        DATAPLANE_SERVICE_TAG,
        Severity.ERROR,
        "missing or invalid service tag",
        "An inbound with tags must carry `kuma.io/service`; an outbound needs either "
        "`tags: {kuma.io/service: ...}` or a `backendRef`, never both; `kuma.io/protocol` must "
        "be one of tcp, http, http2, grpc, kafka.",
    ),
    CodeInfo(
        DATAPLANE_ADMIN_PORT,
        Severity.ERROR,
        "admin port collides",
        "The Envoy admin port (`networking.admin.port`, default 9901) is also used by an "
        "inbound or outbound of the same Dataplane. Choose another admin port.",
    ),
    CodeInfo(
        MESH_MTLS,
        Severity.ERROR,
        "invalid mesh mTLS",
        "The Mesh `mtls` section is inconsistent: `enabledBackend` must name one of "
        "`backends[]`; backend names must be unique; `dpCert.rotation.expiration` must be a "
        "valid duration such as `1d` or `24h`.",
    ),
    CodeInfo(
        MESH_BACKENDS,
        Severity.ERROR,
        "invalid mesh backends",
        "A Mesh `logging`, `tracing` or `metrics` section is inconsistent: backend names must "
        "be unique and the default or enabled backend must be one of them.",
    ),
    CodeInfo(
        REGEX_REJECTED_BY_ENVOY,
        Severity.WARNING,
        "regular expression Envoy rejects",
        "Kuma accepts any string as a `RegularExpression` value (MeshHTTPRoute path, header "
        "and query parameter matches; MeshRetry retriable request and response headers), but "
        "Envoy compiles it with RE2 and rejects the whole route or listener configuration if "
        "it does not parse (RE2 has no lookaround or backreferences) or if its compiled "
        "program is larger than 100 (Envoy's default `re2.max_program_size.error_level`). "
        "`validate` warns, since Kuma accepts the resource; `serve` refuses such a revision "
        "(nothing is published, `/status` shows this diagnostic), because every proxy it "
        "reaches would NACK it. Fix the expression at the position shown.",
        refuses_serving=True,
    ),
    CodeInfo(
        NOT_APPLIED,
        Severity.WARNING,
        "accepted by Kuma but not applied",
        "The field, kind or reference is valid in Kuma 2.14, but the reconciler does not apply "
        "it to any proxy yet (e.g. Mesh `tracing`/`metrics`/`logging`, MeshGateway targets, "
        "MeshExternalService or MeshMultiZoneService references). The message says exactly "
        "what is ignored. The resource is otherwise used; `--fail-on warning` makes this fatal.",
    ),
    CodeInfo(
        ZONE_PROXY_NETWORKING,
        Severity.ERROR,
        "invalid zone proxy networking",
        "A ZoneIngress or ZoneEgress `networking` section is invalid for Kuma 2.14: `address` "
        "and `advertisedAddress` must be IP addresses or DNS names other than 0.0.0.0 or ::; "
        "`port` (and `advertisedPort`) must be 1-65535; `advertisedAddress` and "
        "`advertisedPort` go together; the admin port must differ from the listener port.",
    ),
    CodeInfo(
        TEMPLATE_INVALID,
        Severity.ERROR,
        "invalid Go template",
        "A template field (HostnameGenerator `template`, MeshIdentity `spiffeID.trustDomain` "
        "and `spiffeID.path`) does not parse as a Go text/template. The message quotes Go's "
        "parser error (e.g. an unclosed action, a bad character, an unknown function; only "
        "Go's built-in functions and `label` are available).",
    ),
    CodeInfo(
        CA_BUNDLE_INVALID,
        Severity.ERROR,
        "invalid CA bundle",
        "A MeshTrust `caBundles[]` entry is not a usable CA bundle: a `Pem` bundle needs "
        "`pem.value` holding a PEM-encoded certificate (a PEM private key is rejected).",
    ),
    CodeInfo(
        LEGACY_SELECTOR,
        Severity.ERROR,
        "invalid selector of a legacy policy",
        "A legacy policy (TrafficRoute, TrafficPermission, HealthCheck, ...) selects proxies "
        "and services with `sources`, `destinations` or `selectors`: lists of "
        "`{match: {tag: value}}`. Kuma 2.14 requires at least one selector, at least one tag "
        "in each, `kuma.io/service` where the kind needs it, and for destinations of most "
        "kinds exactly one tag, `kuma.io/service`. The message says which rule is broken.",
    ),
    CodeInfo(
        ENVOY_RESOURCE_INVALID,
        Severity.ERROR,
        "invalid native Envoy resource",
        "A ProxyTemplate carries Envoy configuration as YAML text (`conf.resources[].resource`, "
        "`conf.modifications[].*.value`). The text must be a YAML mapping; a raw resource "
        "names its type in `@type`, and no `@type` may name Envoy's v2 API (Kuma 2.14 knows "
        "the v3 API only). A MeshProxyPatch `value` (a Cluster, Listener, VirtualHost, network "
        "Filter or HttpFilter) must likewise parse as YAML or JSON into a mapping. Kuma also "
        "reads the fields against Envoy's protos; validation does not (it works on plain data).",
    ),
    CodeInfo(
        EXTERNAL_WITHOUT_EGRESS,
        Severity.INFO,
        "external service reached directly, not through a ZoneEgress",
        "Kuma 2.14 sends the traffic of a MeshExternalService through a ZoneEgress and "
        "requires mesh mTLS for it. This control plane runs no zone proxies: each sidecar "
        "with an outbound to the MeshExternalService (`backendRef: {kind: "
        "MeshExternalService, name}`) connects to its `endpoints` itself, with or without "
        "mesh mTLS, and originates TLS as `spec.tls` says. Network rules that only let the "
        "egress reach the outside must also let those sidecars out. `secret:` data sources "
        "are read by the sidecar's Envoy from the environment variable "
        "`RECONCILER_SECRET_<NAME>` (the name upper-cased, other characters as `_`).",
    ),
    CodeInfo(
        HOSTNAMES_NOT_SERVED,
        Severity.INFO,
        "generated hostnames are reported, not served",
        "A HostnameGenerator's hostnames are computed as Kuma 2.14 does (its template for "
        "each MeshService or MeshExternalService its selector picks, with the labels Kuma adds "
        "to resources created in the zone such as `kuma.io/origin: zone`) and reported by "
        "`reconciler inspect` (per outbound) and the server's `/status` (`hostnames`). The "
        "reconciler serves no DNS and configures no transparent proxy: point your own "
        "resolver at the outbound addresses written in the Dataplanes.",
    ),
)
"""RC3xx explanations, one per code defined above."""

_CROSS_RESOURCE: tuple[CodeInfo, ...] = (
    CodeInfo(
        DUPLICATE_RESOURCE,
        Severity.ERROR,
        "duplicate resource",
        "Two documents declare the same `(type, mesh, name)`. Kuma keeps one resource per "
        "identity, so one of them would silently win. The message names the place of the "
        "first definition; rename or remove one of them.",
    ),
    CodeInfo(
        UNKNOWN_MESH,
        Severity.ERROR,
        "mesh not defined",
        "The resource belongs to a mesh that no `Mesh` resource in the repository defines "
        "(an omitted `mesh:` means `default`). Add `type: Mesh` with that name, or fix the "
        "`mesh:` field. The mesh `default` is the exception (RC407).",
    ),
    CodeInfo(
        IMPLICIT_DEFAULT_MESH,
        Severity.WARNING,
        "mesh `default` is implicit",
        "Resources use the mesh `default`, but no `Mesh` named `default` is in the repository. "
        "Kuma's control plane creates that mesh at start (with default settings: no mTLS, "
        "the initial default policies), so the repository is valid Kuma and the reconciler "
        "compiles it the same way. Add `type: Mesh` / `name: default` to keep its settings "
        "in Git.",
    ),
    CodeInfo(
        UNKNOWN_SERVICE,
        Severity.WARNING,
        "reference to a service no Dataplane provides",
        "A MeshService or MeshServiceSubset targetRef or backendRef names a service that no "
        "Dataplane inbound of the mesh is tagged with (`kuma.io/service`). This is normal "
        "while a new service is being deployed; otherwise check the name.",
    ),
    CodeInfo(
        UNKNOWN_OUTBOUND_SERVICE,
        Severity.WARNING,
        "outbound to an unknown service",
        "A Dataplane outbound points to a `kuma.io/service` that no Dataplane inbound of the "
        "mesh provides, so the outbound has no endpoints yet.",
    ),
    CodeInfo(
        SELECTS_NO_PROXY,
        Severity.WARNING,
        "policy selects no proxy",
        "The policy's top-level targetRef matches no Dataplane of its mesh, so it has no "
        "effect. Normal before the proxies are deployed; otherwise check the service name, "
        "tags or labels.",
    ),
    CodeInfo(
        PORT_COLLISION,
        Severity.ERROR,
        "ports collide on one proxy",
        "Two inbounds or outbounds of one Dataplane listen on the same address and port. "
        "Envoy cannot bind two listeners there; give each its own port.",
    ),
)
"""RC4xx explanations."""

_COMPILE: tuple[CodeInfo, ...] = (
    CodeInfo(
        PROXY_COMPILE_FAILED,
        Severity.ERROR,
        "proxy could not be compiled",
        "The resources are valid, but the compiler could not turn them into Envoy "
        "configuration for this proxy (the message says which value). Nothing is published "
        "for the revision; fix the value or report the case if it is valid Kuma.",
    ),
    CodeInfo(
        OUTBOUND_UNRESOLVED,
        Severity.WARNING,
        "outbound backendRef names no destination",
        "A Dataplane outbound written with `backendRef` names a MeshService (or a port of it) "
        "or a MeshExternalService that the mesh does not have. Kuma skips such an outbound "
        "(`CollectServices`), and so does the reconciler: no listener is built on that port. "
        "Define the resource, fix `name`/`port`, or set the Mesh's `meshServices.mode` so "
        "MeshServices are generated from the `kuma.io/service` tags.",
    ),
    CodeInfo(
        PROXY_PATCH_INVALID,
        Severity.ERROR,
        "MeshProxyPatch modification cannot be applied",
        "A MeshProxyPatch modification (the diagnostic points at it) cannot be applied to a "
        "proxy, or leaves configuration Envoy would reject: a `value` that is not the Envoy "
        "message of its kind (Cluster, Listener, Filter, HttpFilter, VirtualHost) in YAML or "
        "JSON, a JSON patch that does not apply or gives an invalid message, a typed config "
        "of a type Envoy does not know, a field breaking Envoy's proto validation rules (a "
        "cluster without a name, a zero timeout, ...), two listeners on one address, or a "
        "route to a cluster the patch removed. The proxy is not compiled and nothing of the "
        "revision is published; the proxies keep their last configuration. Fix the "
        "modification; `reconciler render --proxy MESH.NAME` of the revision without it shows "
        "the generated resources and their names, which `match` compares.",
    ),
    CodeInfo(
        PROXY_PATCH_FIELD_IGNORED,
        Severity.WARNING,
        "MeshProxyPatch value field ignored",
        "A MeshProxyPatch `value` (or the result of its `jsonPatches`) has a field that the "
        "Envoy message does not have. Kuma 2.14 parses these values allowing unknown fields "
        "and drops them, and so does the reconciler; the warning names the field, often a "
        "typo (Envoy's JSON names are camelCase or snake_case, e.g. `connectTimeout`).",
    ),
    CodeInfo(
        COMPILE_SKIPPED,
        Severity.WARNING,
        "policy part not applied",
        "Kuma 2.14 would apply this part of the policy, but the reconciler does not compile it "
        "yet: rules[] matches of a kind that does not compile them (MeshAccessLog, "
        "MeshCircuitBreaker) or an SNI-only match (for zone proxies), a to[] targetRef kind such as MeshExternalService, or a backendRef "
        "to a kind other than MeshService/MeshServiceSubset; or a part Kuma itself ignores in "
        "this context (a MeshFaultInjection from[] where a selecting policy has rules[]). The "
        "rest of the policy applies. `reconciler render` lists the affected proxies in their "
        "notes.",
    ),
    CodeInfo(
        ROUTE_NO_BACKEND,
        Severity.WARNING,
        "route has no backend",
        "Every backendRef of a MeshHTTPRoute rule has weight 0. Kuma accepts the policy but "
        "leaves the rule out of the proxy's routes: its requests fall through to the next "
        "matching route (often the service itself), so the rule has no effect. This is a "
        "warning (`validate --fail-on warning` makes it fatal); give a backend a positive "
        "weight, or remove the rule.",
    ),
    CodeInfo(
        ROUTE_SHADOWED,
        Severity.WARNING,
        "route is never matched",
        "Kuma sorts a MeshHTTPRoute's matches with a path before matches without one (then "
        "Exact, PathPrefix, RegularExpression; longer values first; then method, headers, "
        "query parameters) and appends its own implicit `PathPrefix /` route last. A rule "
        "that a policy writes with exactly `path: {type: PathPrefix, value: /}` is sorted "
        "like any other, before every match without a path, and takes all their requests. "
        "Give the earlier rule a narrower match, or add `path: {type: PathPrefix, value: /}` "
        "to the later match so it sorts before the catch-all.",
    ),
)
"""RC5xx explanations."""

_SERVE_AND_SOURCE: tuple[CodeInfo, ...] = (
    CodeInfo(
        UNKNOWN_NODE,
        Severity.WARNING,
        "proxy names no Dataplane",
        "An Envoy connected with a node id that names no Dataplane in the served revision. "
        "Node ids are `<mesh>.<dataplane name>` (`reconciler bootstrap --proxy MESH.NAME` writes "
        "it). The proxy gets nothing until a Dataplane with that name is applied; `/status` "
        "lists it with this error.",
    ),
    CodeInfo(
        SNAPSHOT_INCONSISTENT,
        Severity.ERROR,
        "inconsistent snapshot",
        "The compiled configuration of a proxy refers to something it does not contain: a "
        "route to a missing cluster, an EDS cluster without endpoints, a listener whose route "
        "configuration is missing. Nothing of the revision is published; this is a compiler "
        "bug, please report it with the revision.",
    ),
    CodeInfo(
        PROXY_NACK,
        Severity.ERROR,
        "proxy rejected configuration (NACK)",
        "Envoy refused a pushed version. It keeps serving its last accepted configuration, "
        "the rejected version is not sent again, and `/status` shows Envoy's error text under "
        "`lastNack`. The next revision that changes this proxy's content is pushed normally.",
    ),
    CodeInfo(
        NODE_ID_MISSING,
        Severity.ERROR,
        "ADS stream without node id",
        "The first request of an ADS stream carries no `node.id`; the stream is refused. Set "
        "`node.id` in the Envoy bootstrap.",
    ),
    CodeInfo(
        REVISION_REJECTED,
        Severity.ERROR,
        "revision not published",
        "The revision has errors (see its diagnostics), so nothing of it is published; the "
        "last applied revision keeps serving. Fix the errors and push a new revision.",
    ),
    CodeInfo(
        REVISION_EMPTY,
        Severity.ERROR,
        "revision would empty the mesh",
        "The revision has no resources, or it removes every proxy of a mesh that had some "
        "(a moved folder, a wrong `--path`, a deleted branch's content). Like Argo CD's "
        "`allowEmpty: false`, nothing is published and the last applied revision keeps "
        "serving. Check `--path` and the commit; if emptying the mesh is what you want, "
        "start `reconciler serve` with `--allow-empty`.",
    ),
    CodeInfo(
        COMPILE_FAILED,
        Severity.ERROR,
        "revision could not be compiled",
        "A valid revision could not be compiled into Envoy configuration. The last applied "
        "revision keeps serving; the message says why.",
    ),
)
"""RC6xx explanations."""

_SOURCE: tuple[CodeInfo, ...] = (
    CodeInfo(
        SOURCE_SYMLINK,
        Severity.WARNING,
        "symbolic link not followed",
        "A resource file in the commit is a symbolic link. The reconciler reads commits from "
        "git objects and never follows links (they could point outside the repository). "
        "Commit the file itself instead of a link.",
    ),
    CodeInfo(
        SOURCE_SUBMODULE,
        Severity.WARNING,
        "submodule not followed",
        "The commit holds a submodule where a resource file is expected. Submodules are not "
        "fetched; copy the resources into the repository.",
    ),
    CodeInfo(
        SOURCE_UNREACHABLE,
        Severity.ERROR,
        "repository unreachable",
        "The repository could not be reached (no route, wrong URL, repository or host not "
        "found). The last applied revision keeps serving; the source is retried with capped "
        "backoff and `/status` shows how stale it is.",
    ),
    CodeInfo(
        SOURCE_AUTH,
        Severity.ERROR,
        "repository authentication failed",
        "The server refused the credentials (or asked for some: prompts are disabled). Check "
        "the SSH key, `GIT_ASKPASS` or the token; credentials never appear in status or logs.",
    ),
    CodeInfo(
        SOURCE_BRANCH_DELETED,
        Severity.ERROR,
        "branch not found",
        "The followed branch does not exist on the remote (deleted or misspelled). The last "
        "applied revision keeps serving until the branch comes back.",
    ),
    CodeInfo(
        SOURCE_TIMEOUT,
        Severity.ERROR,
        "git timed out",
        "A git command did not finish in time and was killed. The fetch is retried with "
        "backoff; raise the timeout for a slow or very large repository.",
    ),
    CodeInfo(
        SOURCE_CORRUPTED_CACHE,
        Severity.ERROR,
        "repository cache corrupted",
        "The local bare cache under the state directory is damaged. The reconciler deletes it "
        "and clones again; this code stays only if the fresh clone fails too.",
    ),
    CodeInfo(
        SOURCE_REFUSED,
        Severity.ERROR,
        "refused URL, branch or path",
        "The repository URL, branch or path is not allowed: only https://, ssh://, file:// "
        "and local paths; no transport helpers (`ext::`), nothing starting with '-', branch "
        "names must pass `git check-ref-format`, paths must stay inside the repository.",
    ),
    CodeInfo(
        SOURCE_GIT_FAILED,
        Severity.ERROR,
        "git command failed",
        "A git command failed for a reason not recognised; the message quotes git.",
    ),
    CodeInfo(
        SOURCE_LOCKED,
        Severity.ERROR,
        "cache directory locked",
        "Another process holds the lock of the repository cache in the state directory. Two "
        "servers must not share one `--state-dir`.",
    ),
)

_IDENTITY: tuple[CodeInfo, ...] = (
    CodeInfo(
        MTLS_BACKEND_UNSUPPORTED,
        Severity.ERROR,
        "mTLS backend cannot be used",
        "The Mesh enables an mTLS backend the reconciler cannot run: a type other than "
        "`builtin` (Kuma's `provided` CA is not implemented), an RSA key size outside "
        "2048-8192, or an expiration that is not a Kuma duration (`10y`, `30d`, `24h`). "
        "Nothing of the revision is published; fix the backend named in the message.",
    ),
    CodeInfo(
        MTLS_CA_UNAVAILABLE,
        Severity.ERROR,
        "mesh CA cannot be created or loaded",
        "The builtin CA of a mesh could not be read from or written to the state directory, "
        "or the CA files given on the command line are unusable (not PEM, not a CA, the key "
        "does not match, or the key file is readable by other users: `chmod 600` it). The "
        "last applied revision keeps serving.",
    ),
    CodeInfo(
        PROXY_TOKEN_REJECTED,
        Severity.ERROR,
        "proxy token refused",
        "An xDS stream was refused because its token does not prove the node id it claims: "
        "the token is missing, malformed, signed by an unknown key, expired, revoked, or "
        "issued for another proxy. The proxy gets no configuration and no private key. Issue "
        "a token with `reconciler token issue --proxy MESH.NAME --state-dir DIR`, where DIR is "
        "the server's `--state-dir` (or `--key FILE` with the server's `--token-key FILE`): a "
        "token signed with another state dir's key is refused, and the message names the key "
        "that signed it and the key the server knows (`reconciler token inspect` shows a "
        "token's key). Make the bootstrap with `reconciler bootstrap --token-file FILE`; "
        "`/status` shows the reason.",
    ),
)
"""Identity explanations (RC59x compile, RC62x serve)."""

ALL: tuple[CodeInfo, ...] = (
    *_FILES_AND_SCHEMA,
    *_SEMANTIC,
    *_CROSS_RESOURCE,
    *_COMPILE,
    *_SERVE_AND_SOURCE,
    *_SOURCE,
    *_IDENTITY,
)
"""Every code in the order of the docs; ``tests/unit/test_codes.py`` checks each is unique."""

CODES: dict[str, CodeInfo] = {info.code: info for info in ALL}


def explain(code: str) -> str | None:
    """The explanation of ``code`` (case-insensitive), or None if there is no such code."""
    info = CODES.get(code.upper())
    if info is None:
        return None
    return f"{info.code} ({info.severity}): {info.title}\n\n{info.explanation}"
