"""Output files that never exist half-written, and checks made before any work starts.

Every file rnaigloo writes (tables, FASTA, models, cards, reports, plots, checkpoints)
goes through :func:`atomic_path`: it is written under a temporary name in the target's
directory and renamed onto its name only when complete, so an error, Ctrl-C or SIGTERM
leaves the target as it was.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from rnaigloo.errors import InputError


def publish(tmp: str | os.PathLike, target: str | os.PathLike) -> None:
    """Rename a finished temporary file to its name, with the usual permissions.

    Temporary files are created readable by their owner only; the result gets the
    mode a plain ``open()`` would have given it (0666 less the umask).
    """
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)
    os.replace(tmp, target)


@contextmanager
def atomic_path(target: str | os.PathLike, suffix: str = ".part") -> Iterator[Path]:
    """A temporary path beside ``target`` that is renamed onto it if the block succeeds.

    The caller writes the file at the yielded path (with any library: Keras, h5py,
    matplotlib). On any exception, the temporary file is removed and ``target`` is
    left as it was.
    """
    target = Path(target)
    parent = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=parent)
    os.close(fd)
    try:
        yield Path(tmp)
        publish(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_output(path: str | os.PathLike | None, stdout: IO[str]) -> Iterator[IO[str]]:
    """A text handle for ``path`` that appears under its name only when complete.

    ``None`` or ``-`` writes to ``stdout``.
    """
    if path is None or str(path) == "-":
        yield stdout
        stdout.flush()
        return
    check_output_path(path)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        yield fh


@contextmanager
def optional_output(path: str | os.PathLike | None, stdout: IO[str]) -> Iterator[IO[str] | None]:
    """:func:`atomic_output` for ``path``, or ``None`` when no path was given."""
    if path is None:
        yield None
    else:
        with atomic_output(path, stdout) as fh:
            yield fh


def write_json_atomic(path: str | os.PathLike, data: Any) -> None:
    """Write JSON (indented, with a final newline) through :func:`atomic_path`."""
    with atomic_path(path, suffix=".tmp") as tmp, open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=False)
        fh.write("\n")


def save_figure(fig: Any, path: str | os.PathLike, dpi: int = 120) -> None:
    """Save a matplotlib figure as PNG through :func:`atomic_path`."""
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")


def check_output_path(path: str | os.PathLike) -> None:
    """Fail early, before any work, when an output file cannot be created.

    Raises:
        InputError: the directory is missing, or the path is a directory.
    """
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"cannot write {target}: directory {parent} does not exist")
    if target.is_dir():
        raise InputError(f"cannot write {target}: it is a directory")
    if not os.access(parent, os.W_OK):
        raise InputError(f"cannot write {target}: directory {parent} is not writable")
