"""Workload (Kuma 2.14 ``workload/api/v1alpha1/validator.go``): the name length."""

from __future__ import annotations

from reconciler.model import Resource
from reconciler.validate.rules.findings import Findings
from reconciler.validate.rules.values import name_length

MAX_NAME_LENGTH = 253


def check(f: Findings, resource: Resource) -> None:
    name_length(f, MAX_NAME_LENGTH)
