"""Progress reports on stderr for long runs (records done, rate, ETA).

On a terminal: a tqdm bar, redrawn at most once a second and cleared when the run
fails. Elsewhere (pipeline logs): a plain line every 30 seconds, nothing for short runs.
"""

from __future__ import annotations

import threading
import time
from typing import IO

from tqdm import tqdm

LOG_INTERVAL = 30.0


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


class RecordProgress:
    """Progress over the bytes of the input files, with records and rate.

    When every input is a file, progress runs over their total size (compressed size
    for compressed files) and gives an ETA; with stdin it counts records only.
    """

    def __init__(self, total_bytes: int | None, stream: IO[str], enabled: bool = True):
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._last_log = self._start
        self._records = 0
        self._bytes = 0
        self._total = total_bytes or None
        self._stream = stream
        self._enabled = enabled
        self._bar = None
        if enabled and _isatty(stream):
            self._bar = tqdm(
                total=self._total,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=stream,
                mininterval=1.0,
                dynamic_ncols=True,
                desc="0 records",
                bar_format="classify: {percentage:3.0f}%|{bar}| {desc} [{elapsed}<{remaining}]"
                if self._total
                else "classify: {desc} [{elapsed}]",
            )

    def bytes_read(self, position: int) -> None:
        with self._lock:
            if self._total:
                position = min(position, self._total)
                if self._bar is not None:
                    self._bar.update(max(0, position - self._bar.n))
            self._bytes = position

    def records_done(self, n: int) -> None:
        with self._lock:
            self._records = n
            now = time.monotonic()
            rate = n / max(now - self._start, 1e-9)
            if self._bar is not None:
                self._bar.set_description_str(f"{n:,} records, {rate:,.0f} records/s", refresh=False)
                self._bar.update(0)  # redraws when the minimum interval has passed
            elif self._enabled and now - self._last_log >= LOG_INTERVAL:
                self._last_log = now
                self._stream.write(f"rnaigloo: {self._line(n, rate, now)}\n")
                self._stream.flush()

    def _line(self, n: int, rate: float, now: float) -> str:
        text = f"{n:,} records, {rate:,.0f} records/s"
        if self._total and self._bytes:
            done = self._bytes / self._total
            eta = (now - self._start) * (1 - done) / max(done, 1e-9)
            text += f", {done:.0%} of input, ETA {_duration(eta)}"
        return text

    def close(self, success: bool = True) -> None:
        with self._lock:
            if self._bar is None:
                return
            if success:
                if self._total:
                    self._bar.update(self._total - self._bar.n)
            else:
                self._bar.leave = False  # an error line follows: do not leave a bar above it
            self._bar.close()


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
