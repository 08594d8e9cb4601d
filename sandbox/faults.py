"""Authentication, rate limits, fault injection and request statistics: what the sandbox's
front door (`sandbox.gate.GateMiddleware`) decides for each request.

The real limits are a rolling 10 s budget, a per-second search budget, an optional
associations budget and a daily budget. Injected faults use a seeded RNG, so a given sequence
of requests meets the same faults on every run.
"""

from __future__ import annotations

import random
import re
import time
import uuid
from collections import Counter, deque
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

POLICIES = ("TEN_SECONDLY_ROLLING", "SECONDLY", "DAILY")
PROFESSIONAL_BURST, PROFESSIONAL_DAILY = 190, 650_000  # private apps, Professional portals
T = TypeVar("T")
_ID = re.compile(r"/\d+(?=/|$)")
_LIST_NAME = re.compile(r"(/crm/v3/lists/object-type-id/[^/]+/name/).+$")
_WRITES = (
    re.compile(r"^POST /crm/v3/objects/[^/]+/batch/(update|create)$"),
    re.compile(r"^POST /crm/v3/objects/[^/]+$"),
    re.compile(r"^POST /crm/v3/lists/?$"),
    re.compile(r"^PUT /crm/v3/lists/\{id\}/memberships/add$"),
    re.compile(r"^(PATCH|DELETE) /crm/v3/objects/[^/]+/\{id\}$"),
    re.compile(r"^DELETE /crm/v3/lists/\{id\}$"),
    re.compile(r"^PUT /crm/v4/objects/[^/]+/\{id\}/associations/default/[^/]+/\{id\}$"),
    re.compile(r"^POST /crm/v4/associations/[^/]+/[^/]+/batch/associate/default$"),
)


def endpoint_key(method: str, path: str) -> str:
    """`POST /crm/v3/objects/contacts/123` -> `POST /crm/v3/objects/contacts/{id}`."""
    path = _LIST_NAME.sub(r"\1{name}", path)
    return f"{method} {_ID.sub('/{id}', path)}"


def is_write(endpoint: str) -> bool:
    return any(p.match(endpoint) for p in _WRITES)


def is_association(endpoint: str) -> bool:
    return endpoint.split(" ", 1)[-1].startswith("/crm/v4/associations/")


def is_search(endpoint: str) -> bool:
    return endpoint.startswith("POST ") and endpoint.endswith("/search") and "/objects/" in endpoint


def correlation_id() -> str:
    return str(uuid.uuid4())


def error_body(message: str, category: str, **extra: Any) -> dict[str, Any]:
    """HubSpot's error JSON."""
    return {
        "status": "error",
        "message": message,
        "correlationId": correlation_id(),
        "category": category,
        **extra,
    }


def settings_from_json(cls: type[T], data: Any, base: T | None = None) -> T:
    """A settings dataclass from a JSON object (over `base`); ValueError on unknown keys."""
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    known = {f.name for f in fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}; allowed: {sorted(known)}")
    values = asdict(base) if base is not None else {}
    try:
        return cls(**{**values, **data})
    except TypeError as exc:
        raise ValueError(str(exc)) from None


@dataclass
class Faults:
    """Shares (0..1) of requests that meet each fault; all off by default.

    `endpoints` limits injection to endpoints whose key (`POST /crm/v3/objects/contacts/search`)
    contains one of the given substrings. `retry_after` adds `Retry-After: N` to injected and
    real 429s. `seed` reseeds the RNG.
    """

    ten_secondly: float = 0.0
    secondly: float = 0.0
    daily: float = 0.0
    server_errors: float = 0.0
    server_error_statuses: list[int] = field(default_factory=lambda: [502, 503, 504])
    latency_ms: int = 0
    slow: float = 1.0  # share of targeted requests that get `latency_ms` (default: all)
    missing_scopes: list[str] = field(default_factory=list)  # 403 MISSING_SCOPES naming them
    drop: float = 0.0
    retry_after: float | None = None
    endpoints: list[str] | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        shares = (
            self.ten_secondly,
            self.secondly,
            self.daily,
            self.server_errors,
            self.drop,
            self.slow,
        )
        if not all(0 <= share <= 1 for share in shares):
            raise ValueError("fault shares must be between 0 and 1")
        if not self.server_error_statuses:
            raise ValueError("server_error_statuses must name at least one status")

    def targets(self, endpoint: str) -> bool:
        return self.endpoints is None or any(e in endpoint for e in self.endpoints)


@dataclass
class Limits:
    """Real limits; None disables one. HubSpot Professional: 190 / 10 s, 5 searches / s.

    `associations_per_10s`: HubSpot meters `/crm/v4/associations/...` with its own burst limit
    (100–200 requests per 10 s by tier; HUBSPOT.md, "Rate limits"). Whether those requests
    also count in the general 10-s budget is undocumented: the sandbox counts them in both.
    The daily budget is on by default at a Free/Starter portal's 250,000 requests, shared by
    every app on the portal, and every answer carries `X-HubSpot-RateLimit-Daily` and
    `-Daily-Remaining` (HubSpot's usage-guidelines page, "API limits" and "Rate limit headers").
    """

    requests_per_10s: int | None = None
    searches_per_second: float | None = None
    daily: int | None = 250_000
    associations_per_10s: int | None = None


class Stats:
    """Counters the admin endpoint reports; `writes` counts state-changing requests answered 2xx."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.writes: Counter[str] = Counter()
        self.rate_limited: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()

    def to_json(self) -> dict[str, Any]:
        return {
            "requests_total": sum(self.requests.values()),
            "writes_total": sum(self.writes.values()),
            "rate_limited_total": sum(self.rate_limited.values()),
            "faults_total": sum(self.faults.values()),
            "requests": dict(self.requests),
            "writes": dict(self.writes),
            "rate_limited": dict(self.rate_limited),
            "faults": dict(self.faults),
            "statuses": dict(self.statuses),
        }


class Gatekeeper:
    """Runtime settings shared by the middleware and the admin endpoints."""

    def __init__(self, token: str, limits: Limits) -> None:
        self.token = token
        self.limits = limits
        self.faults = Faults()
        self.rng = random.Random(0)
        self.stats = Stats()
        self.window: deque[float] = deque()  # request times within the last 10 s
        self.search_window: deque[float] = deque()  # search times within the last 1 s
        self.association_window: deque[float] = deque()  # associations calls, last 10 s
        self.daily_used = 0

    def set_faults(self, faults: Faults) -> None:
        self.faults = faults
        self.rng = random.Random(faults.seed)

    def slowed(self) -> bool:
        """Whether this request gets the added latency (draws only when `slow` < 1)."""
        return self.faults.slow >= 1 or self.rng.random() < self.faults.slow

    def injected(self, endpoint: str) -> tuple[str, Any] | None:
        """The fault this request meets, if any: drop, 5xx status, or a 429 policy."""
        f = self.faults
        if not f.targets(endpoint):
            return None
        draws = [self.rng.random() for _ in range(6)]
        if draws[0] < f.drop:
            return "drop", None
        if draws[1] < f.server_errors:
            statuses = f.server_error_statuses
            return "server_error", statuses[int(draws[2] * len(statuses))]
        shares = (f.ten_secondly, f.secondly, f.daily)
        for draw, share, policy in zip(draws[3:], shares, POLICIES, strict=True):
            if draw < share:
                return "rate_limit", policy
        return None

    def over_limit(self, endpoint: str) -> str | None:
        """Record the request against the real budgets; the policy it breaks, if any."""
        now = time.monotonic()
        lim = self.limits
        if lim.daily is not None and self.daily_used >= lim.daily:
            return "DAILY"
        if is_search(endpoint):
            if lim.searches_per_second is not None:
                _expire(self.search_window, now - 1.0)
                if len(self.search_window) >= lim.searches_per_second:
                    return "SECONDLY"
                self.search_window.append(now)
        else:
            windows = [(self.window, lim.requests_per_10s)]
            if is_association(endpoint):
                windows.append((self.association_window, lim.associations_per_10s))
            counted = [(w, limit) for w, limit in windows if limit is not None]
            for window, limit in counted:
                _expire(window, now - 10.0)
                if len(window) >= limit:
                    return "TEN_SECONDLY_ROLLING"
            for window, _ in counted:
                window.append(now)
        self.daily_used += 1
        return None

    def rate_headers(self, endpoint: str = "") -> list[tuple[bytes, bytes]]:
        """HubSpot's rate-limit headers; an associations call reports its own budget."""
        lim = self.limits
        headers: list[tuple[str, str]] = []
        window, limit = self.window, lim.requests_per_10s
        if is_association(endpoint) and lim.associations_per_10s is not None:
            window, limit = self.association_window, lim.associations_per_10s
        if limit is not None:
            _expire(window, time.monotonic() - 10.0)
            headers += [
                ("X-HubSpot-RateLimit-Max", str(limit)),
                ("X-HubSpot-RateLimit-Remaining", str(max(0, limit - len(window)))),
                ("X-HubSpot-RateLimit-Interval-Milliseconds", "10000"),
            ]
        if lim.daily is not None:
            headers += [
                ("X-HubSpot-RateLimit-Daily", str(lim.daily)),
                ("X-HubSpot-RateLimit-Daily-Remaining", str(max(0, lim.daily - self.daily_used))),
            ]
        return [(k.lower().encode(), v.encode()) for k, v in headers]

    def exhausted_headers(self, policy: str, endpoint: str = "") -> list[tuple[bytes, bytes]]:
        """HubSpot's rate-limit headers on a 429 (developers.hubspot.com/docs/api/usage-details,
        "Rate limit headers"): the broken budget with nothing remaining, also when the 429
        was injected and that limit is off (then HubSpot Professional's numbers). A SECONDLY
        (search) 429 gets none: search answers carry no rate-limit headers (HubSpot's CRM
        search guide). An associations call reports the associations budget when it is on."""
        if policy == "SECONDLY":
            return []
        window, burst = self.window, self.limits.requests_per_10s or PROFESSIONAL_BURST
        if is_association(endpoint) and self.limits.associations_per_10s is not None:
            window, burst = self.association_window, self.limits.associations_per_10s
        daily = self.limits.daily or PROFESSIONAL_DAILY
        _expire(window, time.monotonic() - 10.0)
        burst_left = 0 if policy == "TEN_SECONDLY_ROLLING" else max(0, burst - len(window))
        headers = [
            ("X-HubSpot-RateLimit-Max", str(burst)),
            ("X-HubSpot-RateLimit-Remaining", str(burst_left)),
            ("X-HubSpot-RateLimit-Interval-Milliseconds", "10000"),
        ]
        if policy == "DAILY" or self.limits.daily is not None:
            daily_left = 0 if policy == "DAILY" else max(0, daily - self.daily_used)
            headers += [
                ("X-HubSpot-RateLimit-Daily", str(daily)),
                ("X-HubSpot-RateLimit-Daily-Remaining", str(daily_left)),
            ]
        return [(k.lower().encode(), v.encode()) for k, v in headers]

    def to_json(self) -> dict[str, Any]:
        return {"faults": asdict(self.faults), "limits": asdict(self.limits)}


def _expire(window: deque[float], cutoff: float) -> None:
    while window and window[0] <= cutoff:
        window.popleft()
