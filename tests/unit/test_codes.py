"""The code table: every code unique, and every documented code emitted by some test.

Validation codes are emitted by the case corpus (each kind's ``cases/negative/*.expected.txt``
and the loader's cases, :mod:`case_corpus`). The
others come from tests that make the program emit them and assert on the code: ``EMITTED_BY``
names each such test, and the check below reads that test to make sure it exists and
asserts on the code, so the table cannot silently go stale.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from functools import cache
from pathlib import Path

from case_corpus import expected_files

from reconciler import codes
from reconciler.codes import ALL, CODES, Severity

TESTS = Path(__file__).resolve().parents[1]
CODE = re.compile(r"\bRC\d{3}\b")

EMITTED_BY: dict[str, str] = {
    "RC112": "unit/test_source_git.py::test_oversized_blobs_are_reported_not_read",
    "RC113": "unit/test_loader.py::test_a_file_that_cannot_be_read_is_a_diagnostic",
    "RC208": "unit/test_schemas_validator.py::"
    "test_alternatives_prefer_the_branch_named_by_the_discriminator",
    "RC209": "unit/test_schemas_validator.py::"
    "test_a_schema_rule_without_its_own_message_is_still_reported",
    "RC315": "unit/test_regexes.py::test_every_regex_field_of_every_schema_is_checked",
    "RC407": "cli/test_implicit_default_mesh.py::test_a_docs_example_alone_validates_with_a_warning",
    "RC501": "unit/test_compile_core.py::test_a_proxy_that_cannot_be_compiled_is_reported_not_raised",
    "RC502": "unit/test_compile_routes.py::"
    "test_unsupported_backend_kind_is_reported_not_dropped_silently",
    "RC504": "unit/test_compile_routes.py::test_routes_follow_kuma_compare_match",
    "RC505": "unit/test_compile_mesh_services.py::test_unknown_port_or_service_is_a_note_not_an_outbound",
    "RC510": "unit/test_compile_mesh_proxy_patch.py::"
    "test_a_modification_envoy_would_reject_refuses_the_proxy_at_its_line",
    "RC511": "unit/test_compile_mesh_proxy_patch.py::test_a_field_kuma_drops_is_a_warning_naming_it",
    "RC590": "unit/test_identity_serve_rotation.py::"
    "test_a_mesh_ca_that_cannot_be_used_publishes_nothing",
    "RC591": "unit/test_identity_serve_rotation.py::"
    "test_a_mesh_ca_that_cannot_be_used_publishes_nothing",
    "RC601": "integration/test_ads_sotw.py::test_unknown_node_gets_nothing_and_a_status_entry",
    "RC602": "integration/test_serve_loop.py::test_a_revision_that_cannot_be_published_says_why",
    "RC603": "integration/test_ads_sotw.py::"
    "test_change_pushes_only_changed_types_and_nack_is_not_resent",
    "RC604": "integration/test_ads_sotw.py::test_a_stream_without_node_id_is_refused",
    "RC605": "integration/test_serve_loop.py::test_loop_applies_rejects_and_keeps_serving",
    "RC606": "integration/test_serve_loop.py::test_a_revision_that_cannot_be_published_says_why",
    "RC607": "integration/test_serve_loop.py::"
    "test_a_revision_that_empties_the_mesh_is_refused_unless_allowed",
    "RC620": "unit/test_identity_stream.py::test_streams_need_their_own_token_and_then_get_sds",
    "RC650": "unit/test_source_git.py::"
    "test_read_commit_warns_for_symlinks_and_submodules_and_reads_meta",
    "RC651": "unit/test_source_git.py::"
    "test_read_commit_warns_for_symlinks_and_submodules_and_reads_meta",
    "RC652": "unit/test_source_safety.py::test_classify",
    "RC653": "unit/test_source_safety.py::test_classify",
    "RC654": "unit/test_source_git.py::test_deleted_branch_is_reported_then_recovers",
    "RC655": "unit/test_source_git.py::test_timeout_kills_git",
    "RC656": "unit/test_source_safety.py::test_classify",
    "RC657": "unit/test_source_safety.py::test_classify",
    "RC658": "unit/test_source_safety.py::test_classify",
    "RC659": "unit/test_source_git.py::test_a_held_lock_is_reported",
}
"""Codes the case corpus does not show -> the test that emits each and asserts on it."""


def test_every_code_is_defined_once() -> None:
    repeated = [code for code, n in Counter(info.code for info in ALL).items() if n > 1]
    assert repeated == []
    assert len(CODES) == len(ALL)
    assert all(CODE.fullmatch(info.code) for info in ALL)


def test_every_code_constant_is_documented_and_names_one_code() -> None:
    constants = {
        name: value
        for name, value in vars(codes).items()
        if name.isupper() and isinstance(value, str) and CODE.fullmatch(value)
    }
    assert sorted(set(constants.values())) == sorted(CODES)
    repeated = [code for code, n in Counter(constants.values()).items() if n > 1]
    assert repeated == [], "two constants for one code"


def test_severities_are_the_enum() -> None:
    assert {type(info.severity) for info in ALL} == {Severity}


@cache
def corpus_codes() -> frozenset[str]:
    found: set[str] = set()
    for expected in expected_files():
        found.update(re.findall(r"\[(RC\d{3})\]", expected.read_text("utf-8")))
    assert found, "the case corpus moved: no expected output found"
    return frozenset(found)


def _test_source(ref: str) -> str:
    """The source of ``file::function`` (decorators included), or "" when it is missing."""
    rel, _, name = ref.partition("::")
    path = TESTS / rel
    if not path.exists():
        return ""
    text = path.read_text("utf-8")
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            lines = text.splitlines()[first - 1 : node.end_lineno]
            return "\n".join(lines)
    return ""


def _asserts_on(source: str, code: str) -> bool:
    names = [n for n, v in vars(codes).items() if v == code and n.isupper()]
    return code in source or any(f"codes.{n}" in source for n in names)


def test_every_documented_code_is_emitted_by_a_test() -> None:
    missing = [
        code for code in sorted(CODES) if code not in corpus_codes() and code not in EMITTED_BY
    ]
    assert missing == [], "add a case file or a test that emits these, and list it in EMITTED_BY"


def test_each_listed_test_exists_and_asserts_on_its_code() -> None:
    stale = []
    for code, ref in sorted(EMITTED_BY.items()):
        source = _test_source(ref)
        if not source:
            stale.append(f"{code}: no test {ref}")
        elif not _asserts_on(source, code):
            stale.append(f"{code}: {ref} does not mention {code}")
    assert stale == []
    assert set(EMITTED_BY) <= set(CODES), "EMITTED_BY lists a code that is not documented"
