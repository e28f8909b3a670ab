""" "Did you mean ...?": a suggestion only when the word is a near miss of a known one.

The distance is Damerau-Levenshtein (a swap of two neighbours counts once), compared
case-insensitively; a candidate is suggested only within 1 edit for words under 5
characters, 2 under 12, else 3. So ``MeshTimeOut`` suggests ``MeshTimeout`` and
``Spiffe`` suggests ``SpiffeID``, but no word suggests an unrelated kind (``MeshGateway``
is 7 edits from ``MeshRetry``). Ties go to the first candidate in sorted order.
"""

from __future__ import annotations

from collections.abc import Iterable


def distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Damerau-Levenshtein without repeated edits)."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[i - 2][j - 2] + 1)
        rows.append(row)
    return rows[len(a)][len(b)]


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate within the threshold, or None."""
    limit = 1 if len(word) < 5 else 2 if len(word) < 12 else 3
    best: tuple[int, str] | None = None
    for candidate in sorted(candidates):
        d = distance(word.lower(), candidate.lower())
        if d <= limit and (best is None or d < best[0]):
            best = (d, candidate)
    return best[1] if best is not None else None
