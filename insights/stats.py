"""Small statistics the report needs: percentiles (linear, inclusive) and rates."""

from __future__ import annotations

from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0 ≤ q ≤ 1) by linear interpolation between closest ranks, the
    'inclusive' method (numpy's default); None for no values.

    Example:
        ```python
        from insights.stats import percentile

        assert percentile([1, 2, 3, 4], 0.5) == 2.5
        assert percentile([10], 0.9) == 10
        ```
    """
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float | None:
    return percentile(values, 0.5)


def rate(part: int, whole: int) -> float | None:
    """`part / whole` rounded to 4 places; None when `whole` is 0 (no rate, not 0 %)."""
    return round(part / whole, 4) if whole else None


def hours(value: float | None) -> float | None:
    """Hours rounded to 0.1 for tables (None stays None)."""
    return None if value is None else round(value, 1)
