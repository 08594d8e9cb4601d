"""Fixtures for the pure rule tests: the shipped rules. Builders live in `rule_builders.py`."""

from __future__ import annotations

import pytest

from config.rules import Rules, load_rules


@pytest.fixture(scope="session")
def rules() -> Rules:
    """The packaged `lifecycle.yaml` (defaults, with its nurture lists)."""
    return load_rules()
