"""In-process pacing: keep a process under HubSpot's rolling-window rate limits.

HubSpot counts requests in rolling windows (100–190 per 10 s per app, 5 searches per second
per portal). `RollingWindow(limit, window)` never lets more than `limit` requests fall in any
`window` seconds, whatever the threads do, while a sequential caller still gets the full rate.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RollingWindow:
    """At most `limit` requests in any `window` seconds, with the whole limit as a burst.

    HubSpot counts requests in a rolling window; a token bucket that may never exceed it
    sustains only part of the rate (`for_limit(190, 10)` refills 17.1/s and bursts 19). This
    keeps `limit` slots instead: a request takes a slot (`acquire`) and gives it back when
    its answer is in (`release`), and a slot is reused only `window` (+ `margin`) seconds
    after the answer that freed it. HubSpot stamps a request between sending and answering,
    so no two requests of one slot ever fall in the same window: at most `limit` do, whatever
    the threads do, and a sequential caller gets the full `limit / window` rate.

    Example:
        ```python
        window = RollingWindow(190, 10.0)
        window.acquire()
        try:
            ...  # the request
        finally:
            window.release()
        ```
    """

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        margin: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError(f"need limit >= 1 and window > 0, got {limit=} {window=}")
        self.limit = int(limit)
        self.window = window + margin
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._unused = self.limit  # slots never taken
        self._freed: deque[float] = deque()  # when each returned slot's answer came in
        self._in_flight = 0

    def acquire(self) -> float:
        """Take a slot, sleeping until one may be reused. Returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                if self._unused:
                    self._unused -= 1
                    self._in_flight += 1
                    return waited
                if self._freed:
                    wait = self._freed.popleft() + self.window - self._clock()
                    self._in_flight += 1
                    break
            self._sleep(0.01)  # every slot is in flight: wait for an answer
            waited += 0.01
        if wait > 0:
            self._sleep(wait)
        return waited + max(wait, 0.0)

    def release(self) -> None:
        """The request that took a slot has its answer (or failed): start the slot's window."""
        with self._lock:
            if self._in_flight > 0:
                self._in_flight -= 1
                self._freed.append(self._clock())
