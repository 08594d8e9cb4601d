"""Conditions on contact properties, as the rules file writes them (`promote.when`, `qualify.when`).

`when` is a list of groups, each a list of conditions: a contact matches when every condition
of at least one group holds (AND inside a group, OR across groups). A condition names a
property, an operator and (except `has` / `not-has`) a value:

```yaml
when:
  - - {property: fit_score, op: ">=", value: 30}
    - {property: engagement_score, op: ">=", value: 20}
  - - {property: score_label, op: in, value: [A1, A2, B1]}
```

Comparisons (`>= > <= <`) need a number; `=` / `!=` compare numbers as numbers and anything
else as the exact text (enumeration values are case-sensitive in HubSpot); `in` / `not-in`
take a non-empty list of texts. Thresholds at or below zero are allowed (negative scoring).
Evaluation is in `rules.conditions`; `config.check` checks the properties against the portal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

Operator = Literal[">=", ">", "<=", "<", "=", "!=", "in", "not-in", "has", "not-has"]
OPERATORS: tuple[str, ...] = get_args(Operator)
COMPARISONS = frozenset({">=", ">", "<=", "<"})
MEMBERSHIP = frozenset({"in", "not-in"})
PRESENCE = frozenset({"has", "not-has"})
MAX_GROUPS = 5  # each group is one HubSpot search (and HubSpot takes 5 filter groups at most)
MAX_CONDITIONS = 6  # HubSpot's filters per group: a longer group would not read as one query

Value = float | str | tuple[str, ...] | None


def check_property_name(value: str) -> str:
    """A HubSpot property internal name: lowercase letters, digits and `_`."""
    if not value or not all(c.islower() or c.isdigit() or c == "_" for c in value):
        raise ValueError(
            f"{value!r} is not a HubSpot property internal name (lowercase letters, digits, _)"
        )
    return value


class Condition(BaseModel):
    """One test on one property; `label` names it in reasons (default: the property)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    property: str
    op: Operator
    value: Value = None
    label: str = ""

    _name = field_validator("property")(check_property_name)

    @field_validator("value", mode="before")
    @classmethod
    def _listify(cls, value: object) -> object:
        if isinstance(value, list):
            return tuple(str(v) for v in value)
        if isinstance(value, bool):  # YAML `yes`/`true`: HubSpot booleans are "true"/"false"
            return "true" if value else "false"
        return value

    @model_validator(mode="after")
    def _value_fits_operator(self) -> Condition:
        op, value = self.op, self.value
        shown = f"{self.property} {op}"
        if op in PRESENCE:
            if value is not None:
                raise ValueError(f"{shown} takes no value (given {value!r})")
        elif op in MEMBERSHIP:
            if not isinstance(value, tuple) or not value:
                raise ValueError(f"{shown} needs a non-empty list of values (given {value!r})")
        elif value is None or isinstance(value, tuple):
            raise ValueError(f"{shown} needs one value, a number or a text (given {value!r})")
        elif op in COMPARISONS and as_number(value) is None:
            raise ValueError(f"{shown} compares numbers: {value!r} is not a finite number")
        elif isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{shown}: {value!r} is not a finite number")
        if not self.label:
            object.__setattr__(self, "label", self.property)
        return self

    @property
    def numeric(self) -> bool:
        """Whether the property is compared as a number (so must be a number property)."""
        return self.op in COMPARISONS or (
            self.op in ("=", "!=") and isinstance(self.value, int | float)
        )

    @property
    def threshold(self) -> float | None:
        return as_number(self.value) if self.numeric else None

    def describe(self) -> str:
        """E.g. `fit_score ≥ 30`, `score_label in A1, A2`, `lead_score has a value`."""
        if self.op in PRESENCE:
            return f"{self.label} {'has' if self.op == 'has' else 'has no'} value"
        if isinstance(self.value, tuple):
            return f"{self.label} {self.op} {', '.join(self.value)}"
        return f"{self.label} {SYMBOLS[self.op]} {show(self.value)}"


SYMBOLS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "=": "=", "!=": "≠"}

Group = tuple[Condition, ...]


def as_number(value: object) -> float | None:
    """`value` as a finite float, or None when it is not one ("n/a", "12abc", "nan", "inf")."""
    if isinstance(value, bool) or value is None or isinstance(value, tuple):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def show(value: object) -> str:
    """A value as reasons print it: numbers without a needless `.0`."""
    number = as_number(value) if not isinstance(value, str) else None
    return f"{number:g}" if number is not None else str(value)


def check_groups(groups: tuple[Group, ...] | None) -> tuple[Group, ...] | None:
    """At least one group, none empty, within HubSpot's search limits (None: not given)."""
    if groups is None:
        return None
    if not groups:
        raise ValueError("needs at least one group of conditions")
    if len(groups) > MAX_GROUPS:
        raise ValueError(f"has {len(groups)} groups; at most {MAX_GROUPS} are allowed")
    for index, group in enumerate(groups):
        if not group:
            raise ValueError(f"group {index + 1} is empty; each group needs a condition")
        if len(group) > MAX_CONDITIONS:
            raise ValueError(
                f"group {index + 1} has {len(group)} conditions; at most {MAX_CONDITIONS}"
            )
    return groups


def condition_properties(groups: Sequence[Group]) -> list[str]:
    """Every property the conditions read, once, in order."""
    return list(dict.fromkeys(c.property for group in groups for c in group))
