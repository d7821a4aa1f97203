"""A busy machine for tests that must not pass by luck: one busy-loop process per core at
normal priority, each ending by itself after a bound even if the test run is killed."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field

_SPIN = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass\n"


@contextlib.contextmanager
def cpu_busy(seconds: float = 300) -> Iterator[list[subprocess.Popen[bytes]]]:
    hogs = [subprocess.Popen([sys.executable, "-c", _SPIN.format(seconds=seconds)])
            for _ in range(os.cpu_count() or 1)]
    try:
        yield hogs
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


@dataclass
class Prober:
    """Asks URLs over and over from a thread of its own (not the test's event loop) and
    keeps the slowest answer per URL; an answer is any HTTP status, a timeout is none."""

    urls: list[str]
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = 5.0
    slowest: dict[str, float] = field(default_factory=dict)
    unanswered: list[str] = field(default_factory=list)
    probes: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Prober:
        self._thread = threading.Thread(target=self._run, daemon=True, name="prober")
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.timeout + 1)

    def _run(self) -> None:
        while not self._stop.is_set():
            for url in self.urls:
                started = time.monotonic()
                try:
                    request = urllib.request.Request(url, headers=self.headers)
                    with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                        answer.read()
                except urllib.error.HTTPError:
                    pass  # an answer all the same (503 while something restarts)
                except OSError as exc:
                    self.unanswered.append(f"{url}: {exc}")
                took = time.monotonic() - started
                self.slowest[url] = max(self.slowest.get(url, 0.0), took)
                self.probes += 1
            self._stop.wait(0.1)
