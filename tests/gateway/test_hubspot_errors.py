"""Retry classification, backoff and error messages, from exceptions the real client raises."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hubspot.crm.contacts.exceptions import ApiException as ContactsApiException
from hubspot.crm.lists.exceptions import ApiException as ListsApiException
from hubspot.crm.objects.tasks.exceptions import ApiException as TasksApiException
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

from gateway.errors import (
    Failure,
    daily_limit_message,
    describe,
    explain,
    should_retry,
    wait_seconds,
)


class FakeResponse:
    """What the generated client wraps into an ApiException."""

    def __init__(self, status: int, body: object, headers: dict[str, str] | None = None):
        self.status = status
        self.reason = "Reason"
        self.data = body if isinstance(body, str) else json.dumps(body)
        self._headers = headers or {}

    def getheaders(self) -> dict[str, str]:
        return self._headers


def api_error(
    status: int,
    body: object = "",
    headers: dict[str, str] | None = None,
    cls: type[Exception] = ContactsApiException,
) -> Exception:
    return cls(http_resp=FakeResponse(status, body, headers))


def rate_limited(policy: str, **headers: str) -> Exception:
    body = {"status": "error", "message": "You have reached your limit.", "policyName": policy,
            "errorType": "RATE_LIMIT", "correlationId": "c-429"}  # fmt: skip
    return api_error(429, body, headers)


def no_jitter() -> float:
    return 1.0


@pytest.mark.parametrize("cls", [ContactsApiException, ListsApiException, TasksApiException])
def test_every_sub_package_exception_is_recognised(cls: type[Exception]) -> None:
    body = {"message": "Property values were not valid", "category": "VALIDATION_ERROR",
            "correlationId": "abc-123"}  # fmt: skip
    failure = describe(api_error(400, body, cls=cls))
    assert failure == Failure(
        400, "Property values were not valid", category="VALIDATION_ERROR", correlation_id="abc-123"
    )


@pytest.mark.parametrize("body", ["", "not json", "[1, 2]", {"message": 3}, {}])
def test_error_bodies_with_missing_or_odd_fields_still_describe(body: object) -> None:
    failure = describe(api_error(502, body, {"X-HubSpot-Correlation-Id": "from-header"}))
    assert failure is not None
    assert failure.status == 502 and failure.correlation_id == "from-header"


def test_non_hubspot_exceptions_are_not_described() -> None:
    assert describe(ValueError("boom")) is None
    assert describe(KeyError("status")) is None


def test_429_reads_policy_retry_after_and_interval() -> None:
    failure = describe(
        rate_limited(
            "TEN_SECONDLY_ROLLING",
            **{"Retry-After": "3", "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"},
        )
    )
    assert failure is not None
    assert (failure.policy, failure.retry_after, failure.interval) == (
        "TEN_SECONDLY_ROLLING",
        3,
        10,
    )
    assert failure.reason == "429 TEN_SECONDLY_ROLLING"


def test_retry_after_as_http_date() -> None:
    failure = describe(api_error(477, {}, {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}))
    assert failure is not None and failure.retry_after == 0.0  # a date in the past: go now


@pytest.mark.parametrize(
    ("exc", "sent"),
    [
        (NewConnectionError(None, "Connection refused"), False),
        (ConnectTimeoutError(None, "connect timed out"), False),
        (MaxRetryError(None, "/x", NewConnectionError(None, "refused")), False),
        (ReadTimeoutError(None, "/x", "Read timed out"), True),
        (ProtocolError("Connection aborted.", ConnectionResetError()), True),
        (MaxRetryError(None, "/x", ReadTimeoutError(None, "/x", "timed out")), True),
    ],
)
def test_transport_errors_say_whether_the_request_may_have_arrived(
    exc: Exception, sent: bool
) -> None:
    failure = describe(exc)
    assert failure is not None and failure.status is None and failure.sent is sent


RETRY_TABLE = [
    # exception, retried for reads/updates, retried for creates
    (rate_limited("TEN_SECONDLY_ROLLING"), True, True),
    (rate_limited("SECONDLY"), True, True),
    (rate_limited("DAILY"), False, False),
    (api_error(423, {}), True, True),
    (api_error(477, {}, {"Retry-After": "5"}), True, True),
    *[(api_error(s, {}), True, False) for s in (502, 503, 504, 521, 523, 524)],
    *[(api_error(s, {}), False, False) for s in (400, 401, 403, 404, 409, 500)],
    (NewConnectionError(None, "refused"), True, True),
    (ConnectTimeoutError(None, "timed out"), True, True),
    (ReadTimeoutError(None, "/x", "timed out"), True, False),
    (ProtocolError("Connection aborted."), True, False),
]


@pytest.mark.parametrize(("exc", "for_reads", "for_creates"), RETRY_TABLE)
def test_what_is_retried(exc: Exception, for_reads: bool, for_creates: bool) -> None:
    failure = describe(exc)
    assert failure is not None
    assert should_retry(failure, creates=False) is for_reads
    assert should_retry(failure, creates=True) is for_creates


def test_retry_after_is_honoured_and_capped() -> None:
    assert wait_seconds(Failure(429, "", retry_after=7.0), 1) == 7.0
    assert wait_seconds(Failure(477, "", retry_after=7.0), 3) == 7.0
    assert wait_seconds(Failure(477, "", retry_after=86400.0), 1) == 120.0


def test_secondly_429_waits_about_a_second() -> None:
    waits = [wait_seconds(Failure(429, "", policy="SECONDLY"), n) for n in range(1, 8)]
    assert all(1.0 <= w <= 1.25 for w in waits)


def test_ten_secondly_429_grows_up_to_the_interval() -> None:
    failure = Failure(429, "", policy="TEN_SECONDLY_ROLLING", interval=10.0)
    waits = [wait_seconds(failure, n, no_jitter) for n in range(1, 9)]
    assert waits[0] <= 1.0
    assert waits == sorted(waits) and waits[-1] == 10.0


def test_locked_waits_at_least_two_seconds() -> None:
    assert wait_seconds(Failure(423, ""), 1, lambda: 0.0) >= 2.0


def test_backoff_is_exponential_jittered_and_capped() -> None:
    failure = Failure(503, "")
    full = [wait_seconds(failure, n, no_jitter) for n in range(1, 12)]
    assert full[:4] == [0.5, 1.0, 2.0, 4.0]
    assert max(full) == 30.0
    low = [wait_seconds(failure, n, lambda: 0.0) for n in range(1, 5)]
    assert low == [w / 2 for w in full[:4]]


def test_401_tells_what_to_check_and_never_shows_a_token() -> None:
    token = "pat-na1-0000-secret"
    # The exception's text carries the response headers: a proxy echoing the request's
    # Authorization header would put the token there.
    error = api_error(
        401,
        {"message": "Authentication credentials not found."},
        {"X-Echoed-Authorization": f"Bearer {token}"},
    )
    assert token in str(error)
    failure = describe(error)
    assert failure is not None
    message = explain(failure, "GET /crm/v3/owners/", attempts=1, creates=False)
    assert "HUBSPOT_ACCESS_TOKEN" in message and "private-app token" in message
    assert "Authentication credentials not found." in message
    assert token not in message and token not in str(failure)


def test_403_names_the_missing_scope() -> None:
    body = {
        "status": "error",
        "message": "This app hasn't been granted all required scopes to make this call.",
        "category": "MISSING_SCOPES",
        "errors": [{"message": "One or more of the following scopes are required.",
                    "context": {"requiredGranularScopes": ["crm.lists.write"]}}],
    }  # fmt: skip
    failure = describe(api_error(403, body, cls=ListsApiException))
    assert failure is not None
    message = explain(failure, "POST /crm/v3/lists/", attempts=1, creates=True)
    assert "crm.lists.write" in message and "Scopes" in message
    assert "POST /crm/v3/lists/" in message


def test_other_errors_carry_hubspot_message_category_and_correlation_id() -> None:
    body = {"message": "Property values were not valid", "category": "VALIDATION_ERROR",
            "correlationId": "c-1"}  # fmt: skip
    failure = describe(api_error(400, body))
    assert failure is not None
    message = explain(failure, "POST /crm/v3/objects/contacts/batch/update", attempts=1,
                      creates=False)  # fmt: skip
    assert message == (
        "HubSpot answered 400 VALIDATION_ERROR on POST /crm/v3/objects/contacts/batch/update: "
        "HubSpot said: Property values were not valid [correlation id c-1]"
    )


def test_a_create_in_doubt_says_it_was_not_retried() -> None:
    failure = describe(ReadTimeoutError(None, "/x", "Read timed out"))
    assert failure is not None
    message = explain(failure, "POST /crm/v3/objects/tasks/batch/create", attempts=1, creates=True)
    assert "not retried" in message and "duplicate" in message
    refused = explain(
        Failure(400, "bad"), "POST /crm/v3/objects/tasks/batch/create", attempts=1, creates=True
    )
    assert "not retried" not in refused


def test_exhausted_retries_say_how_many_attempts() -> None:
    message = explain(Failure(503, "down"), "POST /x", attempts=7, creates=False)
    assert "gave up after 7 attempts" in message


def test_daily_limit_message_names_midnight_in_the_portal_timezone() -> None:
    now = datetime(2026, 11, 23, 20, 30, tzinfo=UTC)
    message = daily_limit_message("POST /x", ZoneInfo("Europe/Berlin"), now)
    assert "DAILY" in message and "midnight" in message and "Europe/Berlin" in message
    assert "2026-11-24 00:00 CET" in message and "in about 2 h 30 min" in message


def test_a_429_without_policy_but_no_daily_budget_left_is_daily() -> None:
    failure = describe(api_error(429, {}, {"X-HubSpot-RateLimit-Daily-Remaining": "0"}))
    assert failure is not None and failure.policy == "DAILY"
    assert not should_retry(failure, creates=False)
    unknown = describe(api_error(429, {}, {"X-HubSpot-RateLimit-Daily-Remaining": "10"}))
    assert unknown is not None and unknown.policy is None and should_retry(unknown, creates=False)
