"""Fault injection for crash tests: ``TROPESCOPE_CRASH_AT=point[:n]`` kills the process
(SIGKILL, like ``kill -9``) the n-th time (default 1st) it reaches ``point``. Unset in
normal use, where ``crash_point`` costs one dictionary lookup."""

from __future__ import annotations

import os
import signal
from collections import Counter

_hits: Counter[str] = Counter()


def crash_point(name: str) -> None:
    spec = os.environ.get("TROPESCOPE_CRASH_AT")
    if not spec:
        return
    point, _, nth = spec.partition(":")
    if point != name:
        return
    _hits[name] += 1
    if _hits[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
