"""One call to HubSpot: pacing, timeouts, retries, counting and error mapping.

`CallPolicy` is what every request of `HubSpotGateway` passes through: it waits for a slot
in the rolling windows (and the Prefect global limit when set), stops at the run's share of
the daily budget, gives the call `(connect, read)` timeouts, retries what is safe to retry
(tenacity: 429/423/477/5xx gateways/network; creates only when nothing can be duplicated),
counts it, and turns failures into `HubSpotError`s with HubSpot's own details.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from config.settings import Settings
from gateway.budget import DailyBudget
from gateway.errors import (
    Failure,
    daily_limit_message,
    describe,
    explain,
    should_retry,
    wait_seconds,
)
from gateway.pacing import RollingWindow
from gateway.types import DailyLimitReached, HubSpotError

logger = logging.getLogger(__name__)

T = TypeVar("T")

SHARED_SLOT_BLOCK = 10  # global-limit slots reserved per round trip to the Prefect server


class CallPolicy:
    """Paces, retries and counts calls. `calls` counts HTTP attempts (retries included) per
    endpoint, e.g. `"POST /crm/v3/objects/contacts/search"`; `retries` counts retried
    attempts by reason (`"429 TEN_SECONDLY_ROLLING"`, `"503"`, `"ReadTimeoutError"`);
    `rate_limited` counts every 429 answer seen."""

    calls: Counter[str]

    def __init__(
        self,
        settings: Settings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.calls = Counter()
        self.retries: Counter[str] = Counter()
        self.rate_limited = 0
        self._lock = threading.Lock()
        self._shared_slots = 0
        self._sleep = sleep
        self._timeout = (settings.hubspot_connect_timeout, settings.hubspot_read_timeout)
        # Each limit's whole budget as a burst, then its full rate (see RollingWindow).
        self._budget = RollingWindow(
            settings.hubspot_requests_per_10s, 10.0, clock=clock, sleep=sleep
        )
        per_second = settings.hubspot_searches_per_second
        searches = max(1, int(per_second))  # e.g. 5 per 1 s; 0.5/s becomes 1 per 2 s
        self._search_budget = RollingWindow(
            searches, searches / per_second, clock=clock, sleep=sleep
        )
        self._association_budget = RollingWindow(
            settings.hubspot_association_requests_per_10s, 10.0, clock=clock, sleep=sleep
        )
        self.budget: DailyBudget | None = None  # set per run by `start_daily_budget`
        self._zone: ZoneInfo | None = None  # the portal's, once `portal_identity` read it

    def _call(
        self,
        endpoint: str,
        operation: Callable[..., T],
        *args: Any,
        search: bool = False,
        creates: bool = False,
        **kwargs: Any,
    ) -> T:
        """Run one API operation with pacing, timeouts, retries and counting."""
        attempts = 0

        def attempt() -> T:
            nonlocal attempts
            attempts += 1
            daily = self.budget
            if daily is not None and daily.exhausted():
                raise DailyLimitReached(daily.stop_message(endpoint), endpoint=endpoint)
            budgets = self._budgets(endpoint, search)
            self._acquire_budget(budgets)
            try:
                with self._lock:
                    self.calls[endpoint] += 1
                if daily is not None:
                    daily.count_call()
                answer = operation(*args, _request_timeout=self._timeout, **kwargs)
                if daily is not None:
                    daily.observe(_response_headers(operation))
                return answer
            finally:
                for budget in budgets:  # the request's slot is reused a window after its answer
                    budget.release()

        try:
            return self._retrying(endpoint, creates)(attempt)
        except Exception as exc:
            failure = describe(exc)
            if failure is None:
                raise
            raise self._error(failure, endpoint, attempts, creates) from exc

    def _budgets(self, endpoint: str, search: bool) -> tuple[RollingWindow, ...]:
        """The windows a request counts in. Searches have their own limit (5/s, SECONDLY);
        whether HubSpot also counts them in the 10-s budget is undocumented, so by default
        they take a slot there too (`hubspot_searches_in_request_budget`). Associations
        calls have their own burst limit too, and take a slot in both windows."""
        if endpoint.startswith("POST /crm/v4/associations/"):
            return (self._association_budget, self._budget)
        if not search:
            return (self._budget,)
        if self.settings.hubspot_searches_in_request_budget:
            return (self._search_budget, self._budget)
        return (self._search_budget,)

    def _acquire_budget(self, budgets: Sequence[RollingWindow]) -> None:
        """Wait until one more request may go out: the hook every request passes through.

        The in-process windows always apply (Prefect's global concurrency limit throttles
        badly under thread contention); when `hubspot_global_limit` names a Prefect global
        concurrency limit, a slot of it is taken too, to share the portal's budget across
        processes. A limit that does not exist is skipped with a warning.
        """
        for budget in budgets:
            budget.acquire()
        if self.settings.hubspot_global_limit:
            self._take_shared_slot()

    def _take_shared_slot(self) -> None:
        """One request's slot of the global limit, reserved from the server in blocks.

        Asking the Prefect server once per request costs a round trip each (ten times slower
        on a SQLite server); a block of slots is the same budget for a tenth of the calls.
        """
        with self._lock:
            if self._shared_slots == 0:
                from prefect.concurrency.sync import rate_limit

                rate_limit(
                    self.settings.hubspot_global_limit, occupy=SHARED_SLOT_BLOCK, strict=False
                )
                self._shared_slots = SHARED_SLOT_BLOCK
            self._shared_slots -= 1

    def _retrying(self, endpoint: str, creates: bool) -> Retrying:
        return Retrying(
            stop=stop_after_attempt(self.settings.hubspot_max_retries + 1),
            retry=retry_if_exception(lambda exc: self._retryable(exc, creates)),
            wait=_wait,
            sleep=self._sleep,
            before_sleep=lambda state: self._note_retry(endpoint, state),
            reraise=True,
        )

    def _retryable(self, exc: BaseException, creates: bool) -> bool:
        failure = describe(exc)
        if failure is None:
            return False
        if failure.status == 429:
            with self._lock:
                self.rate_limited += 1
        return should_retry(failure, creates=creates)

    def _note_retry(self, endpoint: str, state: RetryCallState) -> None:
        failure = _outcome_failure(state)
        with self._lock:
            self.retries[failure.reason] += 1
        wait = state.next_action.sleep if state.next_action else 0.0
        logger.warning(
            "HubSpot %s: %s; retry %d in %.1f s",
            endpoint,
            failure.reason,
            state.attempt_number,
            wait,
        )

    def _error(self, failure: Failure, endpoint: str, attempts: int, creates: bool) -> HubSpotError:
        details = {
            "status": failure.status,
            "category": failure.category,
            "correlation_id": failure.correlation_id,
            "endpoint": endpoint,
        }
        if failure.status == 429 and failure.policy == "DAILY":
            message = daily_limit_message(endpoint, self._zone or self.settings.timezone)
            return DailyLimitReached(message, **details)
        message = explain(failure, endpoint, attempts=attempts, creates=creates)
        return HubSpotError(message, **details)


def _wait(state: RetryCallState) -> float:
    return wait_seconds(_outcome_failure(state), state.attempt_number)


def _outcome_failure(state: RetryCallState) -> Failure:
    exc = state.outcome.exception() if state.outcome else None
    failure = describe(exc) if exc else None
    return failure or Failure(None, "unknown failure")


def _response_headers(operation: Callable[..., Any]) -> Mapping[str, str]:
    """The headers of the answer `operation` just got: its generated ApiClient keeps the last
    response (shared by threads, so possibly a sibling's: as good for the daily budget)."""
    owner = getattr(operation, "__self__", None)
    api_client = getattr(owner, "api_client", owner)
    response = getattr(api_client, "last_response", None)
    try:
        return dict(response.getheaders()) if response is not None else {}
    except AttributeError:
        return {}
