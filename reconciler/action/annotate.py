"""Which diagnostics become annotations: lines the PR changed first, a cap per severity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.action.changed_lines import ChangedLines, on_changed_line
from reconciler.diagnostics import Diagnostic, Severity, sort_key
from reconciler.report.diagnostics import github_command


@dataclass(frozen=True, slots=True)
class Annotations:
    shown: tuple[Diagnostic, ...]
    hidden: dict[Severity, int]

    def commands(self) -> list[str]:
        lines = [github_command(d) for d in self.shown]
        if any(self.hidden.values()):
            more = ", ".join(
                f"{n} more {sev.value}{'s' if n != 1 else ''}"
                for sev, n in self.hidden.items()
                if n
            )
            lines.append(f"::notice title=reconciler::{more} are listed in the job summary")
        return lines


def select(
    diagnostics: Sequence[Diagnostic], changed: ChangedLines, *, per_severity: int
) -> Annotations:
    """At most ``per_severity`` annotations of each severity, those on changed lines first."""
    ordered = sorted(
        diagnostics,
        key=lambda d: (not on_changed_line(changed, d.file, d.line), *sort_key(d)),
    )
    shown: list[Diagnostic] = []
    hidden = {s: 0 for s in Severity}
    used = {s: 0 for s in Severity}
    for diag in ordered:
        if used[diag.severity] < per_severity:
            used[diag.severity] += 1
            shown.append(diag)
        else:
            hidden[diag.severity] += 1
    return Annotations(tuple(shown), hidden)
