"""The GitHub Action's entry points (``python -m reconciler.action check|base|comment``).

Input: the action's inputs as ``RECONCILER_*`` environment variables (action.yml maps each
input through ``env:``), the runner's ``GITHUB_*`` files and the event payload. Output:
annotations (workflow commands on stdout), the step summary, step outputs, report files,
an optional SARIF file and an optional sticky PR comment. action.yml stays thin: every
decision is made here, where it is unit-tested. Never fails a step for a diff alone.
"""
