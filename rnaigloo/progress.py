"""Progress reports on stderr for long runs (records done, rate, ETA)."""

from __future__ import annotations

import threading
import time
from typing import IO

from tqdm import tqdm


class RecordProgress:
    """A progress bar over the bytes of the input files, with records and rate.

    When every input is a file, the bar runs over their total size (compressed size
    for compressed files) and gives an ETA; with stdin it counts records only.
    """

    def __init__(self, total_bytes: int | None, stream: IO[str], enabled: bool = True):
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._records = 0
        self._bar = tqdm(
            total=total_bytes,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            file=stream,
            disable=not enabled,
            mininterval=1.0,
            dynamic_ncols=True,
            desc="0 records",
            bar_format="classify: {percentage:3.0f}%|{bar}| {desc} [{elapsed}<{remaining}]"
            if total_bytes
            else "classify: {desc} [{elapsed}]",
        )

    def bytes_read(self, position: int) -> None:
        with self._lock:
            if self._bar.total:
                self._bar.update(max(0, min(position, self._bar.total) - self._bar.n))

    def records_done(self, n: int) -> None:
        with self._lock:
            self._records = n
            rate = n / max(time.monotonic() - self._start, 1e-9)
            self._bar.set_description_str(f"{n:,} records, {rate:,.0f} records/s", refresh=False)
            self._bar.update(0)  # redraws when the minimum interval has passed

    def close(self, success: bool = True) -> None:
        with self._lock:
            if success and self._bar.total:
                self._bar.update(self._bar.total - self._bar.n)
            self._bar.close()
