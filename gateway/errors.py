"""What went wrong with one HubSpot call, whether to retry it, and how long to wait first.

Pure functions over exceptions, used by `gateway.client`. Each hubspot-api-client sub-package
has its own `ApiException` class, so HTTP failures are recognised by their attributes
(`status`, `body`, `headers`), never by class. Transport failures are urllib3's exceptions.

Example:
    ```python
    from urllib3.exceptions import ReadTimeoutError
    from gateway.errors import describe, should_retry

    failure = describe(ReadTimeoutError(None, "/crm/v3/objects/tasks/batch/create", "timed out"))
    assert failure is not None and failure.sent
    assert should_retry(failure, creates=False) and not should_retry(failure, creates=True)
    ```
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    ProtocolError,
    ReadTimeoutError,
)

GATEWAY_STATUSES = frozenset({502, 503, 504, 521, 523, 524})
BACKOFF_BASE = 0.5  # seconds before the first retry, doubled each attempt
BACKOFF_CAP = 30.0  # no single backoff is longer
RETRY_AFTER_CAP = 120.0  # a longer Retry-After is shortened to this
LOCKED_MIN_WAIT = 2.0  # 423: HubSpot asks for at least 2 s
DEFAULT_INTERVAL = 10.0  # TEN_SECONDLY_ROLLING window when no header says otherwise


@dataclass(frozen=True)
class Failure:
    """One failed attempt. `status` is None when no HTTP answer came back; then `sent`
    says whether the request may have reached HubSpot (a read timeout, a dropped
    connection) or certainly did not (connection refused, connect timeout)."""

    status: int | None
    message: str
    sent: bool = True
    category: str | None = None
    correlation_id: str | None = None
    policy: str | None = None  # 429 only: SECONDLY, TEN_SECONDLY_ROLLING, DAILY
    retry_after: float | None = None
    interval: float | None = None  # X-HubSpot-RateLimit-Interval-Milliseconds, in seconds
    scopes: tuple[str, ...] = ()  # scopes a 403 says are missing

    @property
    def reason(self) -> str:
        """A short label for counters: "429 SECONDLY", "503", "ReadTimeoutError"."""
        if self.status is None:
            return self.message.split(":", 1)[0]
        return f"{self.status} {self.policy}" if self.policy else str(self.status)


def describe(exc: BaseException) -> Failure | None:
    """The failure an exception stands for, or None when it is not a HubSpot/transport error."""
    if isinstance(exc, MaxRetryError) and exc.reason is not None:
        return describe(exc.reason)
    if isinstance(exc, ConnectTimeoutError):  # includes NewConnectionError, NameResolutionError
        return Failure(None, f"{type(exc).__name__}: {exc}", sent=False)
    if isinstance(exc, ReadTimeoutError | ProtocolError):
        return Failure(None, f"{type(exc).__name__}: {exc}", sent=True)
    status = getattr(exc, "status", None)
    if isinstance(status, int) and hasattr(exc, "body") and hasattr(exc, "headers"):
        return _http_failure(status, exc)
    return None


def _http_failure(status: int, exc: BaseException) -> Failure:
    body = _json_object(getattr(exc, "body", None))
    headers = _lower_keys(getattr(exc, "headers", None))
    interval_ms = _number(headers.get("x-hubspot-ratelimit-interval-milliseconds"))
    return Failure(
        status=status,
        message=_text(body.get("message")) or _text(getattr(exc, "reason", None)) or "",
        category=_text(body.get("category")) or _text(body.get("errorType")),
        correlation_id=_text(body.get("correlationId")) or headers.get("x-hubspot-correlation-id"),
        policy=_policy(status, body, headers),
        retry_after=_retry_after(headers.get("retry-after")),
        interval=interval_ms / 1000 if interval_ms else None,
        scopes=_scopes(body),
    )


def _policy(status: int, body: Mapping[str, object], headers: Mapping[str, str]) -> str | None:
    """A 429's policy: from the body, else DAILY when the daily budget header says 0 left."""
    if status != 429:
        return None
    if headers.get("x-hubspot-ratelimit-daily-remaining") == "0":
        return _text(body.get("policyName")) or "DAILY"
    return _text(body.get("policyName"))


def should_retry(failure: Failure, *, creates: bool) -> bool:
    """Whether another attempt is safe and useful.

    Creates are retried only when HubSpot certainly did not process the request
    (429, 423, 477, or a connection that never opened): anything else could duplicate it.
    """
    if failure.status == 429:
        return failure.policy != "DAILY"
    if failure.status in (423, 477) or (failure.status is None and not failure.sent):
        return True
    return in_doubt(failure) and not creates


def in_doubt(failure: Failure) -> bool:
    """HubSpot may or may not have processed the request (sent, then no usable answer)."""
    if failure.status is None:
        return failure.sent
    return failure.status in GATEWAY_STATUSES


def wait_seconds(failure: Failure, attempt: int, rng: Callable[[], float] = random.random) -> float:
    """Seconds to wait after the `attempt`-th failed attempt (1-based)."""
    if failure.retry_after is not None:
        return min(failure.retry_after, RETRY_AFTER_CAP)
    backoff = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)) * (0.5 + rng() / 2)
    if failure.status == 429 and failure.policy == "SECONDLY":
        return 1.0 + rng() / 4
    if failure.status == 429:
        return min(failure.interval or DEFAULT_INTERVAL, 2 * backoff)
    if failure.status == 423:
        return max(LOCKED_MIN_WAIT, backoff)
    return backoff


def _json_object(body: object) -> dict[str, object]:
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not isinstance(body, str):
        return {}
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _lower_keys(headers: object) -> dict[str, str]:
    if not isinstance(headers, Mapping):
        return {}
    return {str(key).lower(): str(value) for key, value in headers.items()}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds: a number, or an HTTP date."""
    if value is None:
        return None
    seconds = _number(value)
    if seconds is None:
        try:
            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None
    return max(0.0, seconds)


def _scopes(body: Mapping[str, object]) -> tuple[str, ...]:
    """Scope names from an error body's contexts (e.g. `requiredGranularScopes`)."""
    contexts = [body.get("context")]
    errors = body.get("errors")
    if isinstance(errors, list):
        contexts += [e.get("context") for e in errors if isinstance(e, dict)]
    found: list[str] = []
    for context in contexts:
        if not isinstance(context, dict):
            continue
        for key, values in context.items():
            if "scope" in str(key).lower() and isinstance(values, list):
                found += [str(v) for v in values]
    return tuple(dict.fromkeys(found))


def explain(failure: Failure, endpoint: str, *, attempts: int, creates: bool) -> str:
    """A message for people: what failed, HubSpot's own words, and what to do about it."""
    said = f" HubSpot said: {failure.message}" if failure.message else ""
    if failure.status == 401:
        text = (
            f"HubSpot rejected the access token on {endpoint} (401): check that "
            "HUBSPOT_ACCESS_TOKEN (or the Secret block named by HUBSPOT_TOKEN_BLOCK) holds a "
            f"current private-app token for this portal.{said}"
        )
    elif failure.status == 403:
        missing = f" ({', '.join(failure.scopes)})" if failure.scopes else ""
        text = (
            f"HubSpot refused {endpoint} (403): the private app lacks a required scope{missing}. "
            "Add it under Settings → Integrations → Private apps → Scopes, then use the "
            f"app's token.{said}"
        )
    elif failure.status is None:
        text = f"no answer from HubSpot for {endpoint}: {failure.message}"
    else:
        kind = f" {failure.category}" if failure.category else ""
        text = f"HubSpot answered {failure.status}{kind} on {endpoint}:{said or ' no message'}"
    if creates and in_doubt(failure):
        text += (
            " — not retried: HubSpot may already have created it; the next run finds it "
            "instead of creating a duplicate"
        )
    if attempts > 1:
        text += f" (gave up after {attempts} attempts)"
    if failure.correlation_id:
        text += f" [correlation id {failure.correlation_id}]"
    return text


def daily_limit_message(endpoint: str, timezone: ZoneInfo, now: datetime | None = None) -> str:
    """Why nothing more can be done today, and when it can."""
    local = (now or datetime.now(UTC)).astimezone(timezone)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), timezone)
    hours, rest = divmod(int((midnight - local).total_seconds()), 3600)
    return (
        f"HubSpot's DAILY API limit for this portal is used up ({endpoint} answered 429): no "
        f"call will succeed until midnight in the portal's timezone, {timezone.key} "
        f"({midnight:%Y-%m-%d %H:%M %Z}, in about {hours} h {rest // 60} min). "
        "Run again after the reset."
    )
