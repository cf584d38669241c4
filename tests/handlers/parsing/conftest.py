"""Shared fixtures for the parser tests, and the per-field accuracy report of the corpus."""

from __future__ import annotations

from collections import defaultdict

import pytest

# field name -> one True/False per corpus case that checks that field
ACCURACY_KEY = pytest.StashKey[dict[str, list[bool]]]()


@pytest.fixture(scope="session")
def field_accuracy(pytestconfig: pytest.Config) -> dict[str, list[bool]]:
    """Where the corpus test records, field by field, whether the parser got it right."""
    return pytestconfig.stash.setdefault(ACCURACY_KEY, defaultdict(list))


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    results = config.stash.get(ACCURACY_KEY, None)
    if not results:
        return
    terminalreporter.write_sep("-", "parser corpus: per-field accuracy")
    cases = max(len(outcomes) for outcomes in results.values())
    terminalreporter.write_line(f"{cases} cases")
    for field, outcomes in results.items():
        right = sum(outcomes)
        share = 100 * right / len(outcomes)
        terminalreporter.write_line(f"  {field:<15} {right:>4}/{len(outcomes):<4} {share:6.1f}%")
