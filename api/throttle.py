"""Login throttling: failed logins per account and per client address, with a growing wait.

Every password check costs argon2's memory (about 64 MiB) and time on purpose, so forty threads
guessing passwords can take the server down for everyone. An attempt counts as a failure from
the moment it starts (so concurrent guesses cannot all slip through before the first one fails)
and is given back when it succeeds. Past the limit a key waits base · 2^(n−1) seconds after its
last counted attempt (capped); a throttled attempt gets 429 and never reaches argon2. The table
of keys is bounded (least recently used forgotten first), and at most `concurrency` password
checks run at once.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from video_audit.settings import ServiceSettings

KEY_CHARS = 256  # a name longer than this is still one key, not a way to grow the table


@dataclass
class _Failures:
    count: int
    last: float


class Throttled(Exception):
    """Too many failed logins: try again after `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after:.0f} s")
        self.retry_after = max(1, math.ceil(retry_after))


class LoginThrottle:
    """Failed logins by key ("account:…", "address:…"); thread-safe, bounded."""

    def __init__(
        self,
        account_limit: int,
        address_limit: int,
        window_s: float,
        backoff_s: float,
        backoff_max_s: float,
        max_keys: int,
        concurrency: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = {"account": account_limit, "address": address_limit}
        self.window_s, self.backoff_s, self.backoff_max_s = window_s, backoff_s, backoff_max_s
        self.max_keys = max_keys
        self.clock = clock
        self._failures: OrderedDict[str, _Failures] = OrderedDict()
        self._lock = threading.Lock()
        self._checks = threading.BoundedSemaphore(concurrency)

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> LoginThrottle:
        return cls(
            settings.login_failures,
            settings.login_address_failures,
            settings.login_window_s,
            settings.login_backoff_s,
            settings.login_backoff_max_s,
            settings.login_table_max,
            settings.login_concurrency,
        )

    def __len__(self) -> int:
        return len(self._failures)

    @staticmethod
    def keys(name: str, address: str | None) -> list[str]:
        return [
            f"account:{name.strip().casefold()[:KEY_CHARS]}",
            f"address:{(address or '?')[:KEY_CHARS]}",
        ]

    def _wait(self, key: str, now: float) -> float:
        """Seconds this key must still wait (0: it may try); forgets stale failures."""
        entry = self._failures.get(key)
        if entry is None:
            return 0.0
        limit = self.limits[key.split(":", 1)[0]]
        over = entry.count - limit + 1
        backoff = min(self.backoff_max_s, self.backoff_s * 2 ** (over - 1)) if over > 0 else 0.0
        if now - entry.last >= max(self.window_s, backoff):
            del self._failures[key]
            return 0.0
        return max(0.0, entry.last + backoff - now)

    def begin(self, keys: list[str]) -> None:
        """Count an attempt against every key, or raise Throttled (nothing counted then)."""
        with self._lock:
            now = self.clock()
            wait = max(self._wait(key, now) for key in keys)
            if wait > 0:
                raise Throttled(wait)
            for key in keys:
                entry = self._failures.pop(key, None) or _Failures(0, now)
                entry.count += 1
                entry.last = now
                self._failures[key] = entry  # most recently used last
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)

    def succeeded(self, keys: list[str]) -> None:
        """The attempt was right: the account starts afresh, the address gets its attempt back."""
        self._give_back(keys, forget_account=True)

    def give_back(self, keys: list[str]) -> None:
        """The attempt never reached the password check: it does not count."""
        self._give_back(keys, forget_account=False)

    def _give_back(self, keys: list[str], forget_account: bool) -> None:
        with self._lock:
            for key in keys:
                entry = self._failures.get(key)
                if entry is None:
                    continue
                entry.count -= 1
                if entry.count <= 0 or (forget_account and key.startswith("account:")):
                    del self._failures[key]

    @contextmanager
    def password_check(self, timeout_s: float = 30.0) -> Iterator[None]:
        """At most `concurrency` argon2 checks at once; Throttled when none frees up in time."""
        if not self._checks.acquire(timeout=timeout_s):
            raise Throttled(1)
        try:
            yield
        finally:
            self._checks.release()
