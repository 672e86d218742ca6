"""A small circuit breaker for calls to something outside our control (an external API).

After `failure_threshold` consecutive failures the circuit opens and calls fail
fast for `reset_seconds`; then one trial call is let through (half-open): its
success closes the circuit, its failure opens it again. Failing fast keeps a
dead provider from holding every request for its full timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


class CircuitOpen(Exception):
    """The circuit is open: the call was not attempted."""

    def __init__(self, name: str, retry_after_seconds: float) -> None:
        super().__init__(f"{name} is failing; not calling it for {retry_after_seconds:.0f}s")
        self.name = name
        self.retry_after_seconds = retry_after_seconds


@dataclass
class CircuitBreaker:
    name: str
    failure_threshold: int = 5
    reset_seconds: float = 30.0
    clock: Callable[[], float] = time.monotonic
    _failures: int = field(default=0, init=False)
    _opened_at: float | None = field(default=None, init=False)
    _trial_running: bool = field(default=False, init=False)

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        if self.clock() - self._opened_at >= self.reset_seconds:
            return "half_open"
        return "open"

    @property
    def failures(self) -> int:
        """Failures in a row since the last success (reported in the detailed health)."""
        return self._failures

    def before_call(self) -> None:
        """Raises CircuitOpen unless a call may go ahead now."""
        state = self.state
        if state == "closed":
            return
        if state == "half_open" and not self._trial_running:
            self._trial_running = True
            return
        assert self._opened_at is not None
        remaining = self.reset_seconds - (self.clock() - self._opened_at)
        raise CircuitOpen(self.name, max(remaining, 1.0))

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_running = False

    def record_failure(self) -> None:
        self._failures += 1
        if self._trial_running or self._failures >= self.failure_threshold:
            self._opened_at = self.clock()
        self._trial_running = False
