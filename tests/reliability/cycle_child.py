"""Run one writing cycle judged at the instant given as argv[1] (ISO-8601), settings from the
environment. The kill -9 and concurrency tests start it as a separate process."""

from __future__ import annotations

import json
import sys
from datetime import datetime

from flows.cycle import lifecycle_cycle
from flows.params import RunParams

if __name__ == "__main__":
    summary = lifecycle_cycle(RunParams(until=datetime.fromisoformat(sys.argv[1])))
    print("SUMMARY " + json.dumps(summary), flush=True)
