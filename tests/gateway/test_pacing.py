"""The token bucket keeps every window under the limit, across threads."""

from __future__ import annotations

import threading
import time

import pytest

from tasks.pacing import TokenBucket


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def max_in_window(stamps: list[float], window: float) -> int:
    """The most timestamps any half-open window [t, t + window) holds."""
    stamps = sorted(stamps)
    best, start = 0, 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] >= window - 1e-9:
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest.mark.parametrize(
    ("limit", "window", "sustained"),
    [(100, 10.0, 0.9), (190, 10.0, 0.9), (5, 1.0, 0.8), (4, 1.0, 0.75), (1, 1.0, 0.5)],
)
def test_no_window_exceeds_the_limit(limit: int, window: float, sustained: float) -> None:
    fake = FakeTime()
    bucket = TokenBucket.for_limit(limit, window, clock=fake.clock, sleep=fake.sleep)
    stamps = []
    for _ in range(limit * 5):
        bucket.acquire()
        stamps.append(fake.now)
    assert max_in_window(stamps, window) <= limit
    # ... while still using most of the budget
    rate = (len(stamps) - 1) / stamps[-1]
    assert rate >= sustained * limit / window * 0.99


def test_a_burst_goes_out_at_once_then_requests_wait_their_turn() -> None:
    fake = FakeTime()
    bucket = TokenBucket.for_limit(100, 10.0, clock=fake.clock, sleep=fake.sleep)
    waits = [bucket.acquire() for _ in range(12)]
    assert waits[:10] == [0.0] * 10
    assert waits[10] == pytest.approx(1 / 9)


def test_threads_share_one_budget() -> None:
    bucket = TokenBucket.for_limit(20, 0.5)  # 40 per second at most
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(8):
            bucket.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(stamps) == 64
    assert max_in_window(stamps, 0.5) <= 20 + 1  # +1: the stamp is taken after the sleep ends


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0, 1)
    with pytest.raises(ValueError):
        TokenBucket(1, 0.5)
