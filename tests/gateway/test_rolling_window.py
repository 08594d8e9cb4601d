"""The rolling-window limiter: the full limit as a burst, the full rate after, never more."""

from __future__ import annotations

import random
import threading
import time

import pytest

from gateway.pacing import RollingWindow

from support import FakeTime


def max_in_window(stamps: list[float], window: float) -> int:
    """The most stamps any window (t - window, t] holds (as HubSpot and the sandbox count)."""
    stamps = sorted(stamps)
    best, start = 0, 0
    for end, stamp in enumerate(stamps):
        while stamps[start] <= stamp - window:
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest.mark.parametrize(("limit", "window"), [(190, 10.0), (100, 10.0), (5, 1.0), (1, 1.0)])
def test_the_server_never_sees_more_than_the_limit(limit: int, window: float) -> None:
    fake, rng = FakeTime(), random.Random(limit)
    limiter = RollingWindow(limit, window, margin=0.0, clock=fake.clock, sleep=fake.sleep)
    stamps = []
    for _ in range(limit * 5):
        limiter.acquire()
        fake.now += rng.random() * 0.05  # on the way: the server stamps it in here
        stamps.append(fake.now)
        fake.now += rng.random() * 0.05  # the answer comes back
        limiter.release()
    assert max_in_window(stamps, window) <= limit
    # the whole limit goes out at once, then the full rate (latency aside)
    assert stamps[limit - 1] < 0.1 * limit
    assert (len(stamps) - limit) / (stamps[-1] - stamps[limit - 1]) >= 0.9 * limit / window


def test_a_slot_is_reused_a_window_after_its_answer() -> None:
    fake = FakeTime()
    limiter = RollingWindow(2, 10.0, margin=0.5, clock=fake.clock, sleep=fake.sleep)
    assert limiter.acquire() == 0.0
    fake.now = 1.0
    limiter.release()
    assert limiter.acquire() == 0.0
    limiter.release()  # at 1.0
    assert limiter.acquire() == pytest.approx(10.5)  # 1.0 + 10 + 0.5 - 1.0
    assert fake.now == pytest.approx(11.5)


def test_threads_share_the_window() -> None:
    limiter = RollingWindow(10, 0.5, margin=0.0)
    stamps: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(6):
            limiter.acquire()
            with lock:
                stamps.append(time.monotonic())
            time.sleep(0.005)
            limiter.release()

    threads = [threading.Thread(target=work) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(stamps) == 30
    assert max_in_window(stamps, 0.5) <= 10


def test_a_release_without_acquire_adds_no_slot() -> None:
    fake = FakeTime()
    limiter = RollingWindow(1, 1.0, margin=0.0, clock=fake.clock, sleep=fake.sleep)
    limiter.release()
    limiter.acquire()
    limiter.release()
    assert limiter.acquire() == pytest.approx(1.0)


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        RollingWindow(0, 1.0)
    with pytest.raises(ValueError):
        RollingWindow(1, 0)
