"""Output files that never exist half-written, and checks made before any work starts.

Every regular file rnaigloo writes (tables, FASTA, models, cards, reports, plots) goes
through :func:`atomic_path`: it is written under a temporary name in the target's
directory and renamed onto its name only when complete, so an error, Ctrl-C or SIGTERM
leaves the target as it was. Training checkpoints do not: each is a unit directory of
several files, written in full under a temporary name and renamed into place as a whole
(:mod:`rnaigloo.training.checkpoint`, :mod:`rnaigloo.training.callbacks`).

Special files are not regular files and are never replaced: a character device
(``/dev/null``), a named pipe, ``/dev/fd/N`` (process substitution, ``>(cmd)``) or
anything else under ``/dev`` or ``/proc`` is opened and written in place, as the shell's
``>`` would; ``/dev/stdout`` is the output stream itself. What was written to such a
stream cannot be taken back on an error, as with stdout.

Before any input is read, :func:`check_outputs` refuses an output that is one of the
inputs (also through symbolic or hard links), two outputs that name one file, and an
existing file that is write-protected (mode bits, so also when running as root).
Errors the system raises while writing name the user's file, never the temporary one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from rnaigloo.errors import InputError, OutputError

_STDOUT_NAMES = ("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1")
_FD_DIRS = ("/dev/fd/", "/proc/self/fd/")


def _system_words(err: OSError) -> str:
    return err.strerror or str(err) or type(err).__name__


def is_stdout(path: str | os.PathLike | None) -> bool:
    """``-``, ``None`` or a name of this process's standard output (``/dev/stdout``, ``/dev/fd/1``)."""
    return path is None or str(path) == "-" or os.path.normpath(str(path)) in _STDOUT_NAMES


def is_special(path: str | os.PathLike) -> bool:
    """True for an output written in place: an existing file that is not a regular file
    (device, named pipe, socket), or any path under ``/dev`` or ``/proc``."""
    name = os.path.abspath(str(path))
    if name.startswith(("/dev/", "/proc/")):
        return True
    try:
        mode = os.stat(name).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


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
def _named_errors(target: str | os.PathLike, tmp: str | None = None) -> Iterator[None]:
    """System errors raised in the block become one line naming ``target`` (not ``tmp``)."""
    try:
        yield
    except BrokenPipeError:
        if str(target) == "stdout":
            raise  # a reader that went away (| head): the command line ends quietly
        raise OutputError(f"cannot write {target}: its reader went away (broken pipe)") from None
    except OSError as err:
        words = _system_words(err)
        if tmp:
            words = words.replace(str(tmp), str(target))
        raise OutputError(f"cannot write {target}: {words}") from None


@contextmanager
def atomic_path(target: str | os.PathLike, suffix: str = ".part") -> Iterator[Path]:
    """A temporary path beside ``target`` that is renamed onto it if the block succeeds.

    The caller writes the file at the yielded path (with any library: Keras, h5py,
    matplotlib). On any exception, the temporary file is removed and ``target`` is
    left as it was. A special ``target`` (see :func:`is_special`) is written in place:
    the block writes a private temporary file, copied into ``target`` when it succeeds.

    Raises:
        OutputError: the system refused a write, naming ``target``.
    """
    target = Path(target)
    if is_special(target):
        with tempfile.TemporaryDirectory(prefix="rnaigloo.") as private:
            tmp = Path(private) / f"output{suffix}"
            yield tmp
            with _named_errors(target), open(tmp, "rb") as src, _open_special(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
        return
    # through a symbolic link, the file it points to is replaced and the link kept, as the shell's > does
    real = Path(os.path.realpath(target)) if target.is_symlink() else target
    parent = real.parent if str(real.parent) else Path(".")
    with _named_errors(target):
        fd, tmp = tempfile.mkstemp(prefix=f".{real.name}.", suffix=suffix, dir=parent)
        os.close(fd)
    try:
        with _named_errors(target, tmp):
            yield Path(tmp)
            publish(tmp, real)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _open_special(target: str | os.PathLike, mode: str) -> IO[Any]:
    """Open a special output in place; ``/dev/fd/N`` shares descriptor N (offset and append mode kept)."""
    name = os.path.normpath(str(target))
    for prefix in _FD_DIRS:
        number = name[len(prefix) :]
        if name.startswith(prefix) and number.isdigit():
            try:
                return os.fdopen(os.dup(int(number)), mode, **({} if "b" in mode else _TEXT))
            except OSError:
                break  # not a descriptor of this process: open the name
    return open(target, mode, **({} if "b" in mode else _TEXT))  # noqa: SIM115 - closed by the caller


_TEXT = {"encoding": "utf-8", "newline": "\n"}


class _NamedWriter:
    """A text handle whose system errors (a full disk, a quota) name the user's file."""

    def __init__(self, handle: IO[str], name: str, tmp: str | None = None):
        self._handle = handle
        self._name = name
        self._tmp = tmp

    def write(self, text: str) -> int:
        with _named_errors(self._name, self._tmp):
            return self._handle.write(text)

    def flush(self) -> None:
        with _named_errors(self._name, self._tmp):
            self._handle.flush()


@contextmanager
def atomic_output(path: str | os.PathLike | None, stdout: IO[str]) -> Iterator[IO[str]]:
    """A text handle for ``path`` that appears under its name only when complete.

    ``None``, ``-`` or ``/dev/stdout`` writes to ``stdout``; a special file (see
    :func:`is_special`) is written in place.

    Raises:
        OutputError: the system refused a write (a full disk, a permission), naming ``path``.
    """
    if is_stdout(path):
        yield _NamedWriter(stdout, "stdout")  # type: ignore[misc]
        with _named_errors("stdout"):
            stdout.flush()
        return
    check_output_path(path)
    if is_special(path):
        with _named_errors(path):
            handle = _open_special(path, "w")
        with _named_errors(path), handle:
            yield _NamedWriter(handle, str(path))  # type: ignore[misc]
        return
    with atomic_path(path) as tmp:
        with open(tmp, "w", **_TEXT) as fh:
            yield _NamedWriter(fh, str(path), str(tmp))  # type: ignore[misc]


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


def sha256_of(path: str | os.PathLike) -> str:
    """The SHA-256 of a file, as lower-case hex (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_figure(fig: Any, path: str | os.PathLike, dpi: int = 120) -> None:
    """Save a matplotlib figure as PNG through :func:`atomic_path`."""
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")


def _write_protected(path: Path, st: os.stat_result) -> bool:
    """An existing regular file its owner may not write: no write bit set for the user.

    ``os.access`` says yes to root for every file, so for root the mode bits decide:
    a file nobody may write (e.g. Snakemake's ``protected()`` outputs, mode 0444) is
    write-protected for root too, as ``rm`` and ``cp -i`` treat it.
    """
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    return not os.access(path, os.W_OK)


def check_output_path(path: str | os.PathLike) -> None:
    """Fail early, before any work, when an output file cannot or must not be written.

    Raises:
        OutputError: the directory is missing or not writable, the path is a directory,
            or it is an existing write-protected file.
    """
    target = Path(path)
    if is_stdout(target):
        return
    if is_special(target):
        if not target.exists():
            raise OutputError(f"cannot write {target}: no such device or file (outputs under /dev and /proc are written in place, never created)")
        return
    real = Path(os.path.realpath(target)) if target.is_symlink() else target
    parent = real.parent if str(real.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"cannot write {target}: directory {parent} does not exist")
    if target.is_dir():
        raise OutputError(f"cannot write {target}: it is a directory")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"cannot write {target}: directory {parent} is not writable")
    try:
        st = target.stat()
    except OSError:
        return
    if _write_protected(target, st):
        raise OutputError(
            f"cannot write {target}: it exists and is write-protected (mode {stat.S_IMODE(st.st_mode):04o}); "
            "remove it or make it writable first"
        )


def _identity(path: str | os.PathLike) -> tuple[Any, ...]:
    """What names one file: device and inode when it exists, else its resolved path."""
    try:
        st = os.stat(path)
        return ("inode", st.st_dev, st.st_ino)
    except OSError:
        return ("path", os.path.realpath(path))


def check_outputs(outputs: Mapping[str, str | os.PathLike | None], inputs: Iterable[str | os.PathLike]) -> None:
    """Check every output before anything is read (see :func:`check_output_path`), and more.

    Refused: an output that is one of ``inputs`` (the same file, also through symbolic
    or hard links), and two outputs that name one file. Special files (devices, pipes)
    and stdout are streams, not files to lose, and are not compared.

    Args:
        outputs: the outputs by the option that names them (``-o``, ``--plot``).
        inputs: every file read (FASTA, models, their cards, config files); ``-`` is skipped.

    Raises:
        OutputError: one line naming the option, the file and the clash.
    """
    inputs_by_id: dict[tuple[Any, ...], str] = {}
    for path in inputs:
        if str(path) != "-" and os.path.exists(path):
            inputs_by_id.setdefault(_identity(path), str(path))
    seen: dict[tuple[Any, ...], str] = {}
    to_stdout = [option for option, path in outputs.items() if path is not None and is_stdout(path)]
    if len(to_stdout) > 1:
        raise OutputError(f"{' and '.join(to_stdout)} both write to stdout; give all but one a file name")
    for option, path in outputs.items():
        if path is None or is_stdout(path):
            continue
        check_output_path(path)
        if is_special(path):
            continue
        key = _identity(path)
        if key in inputs_by_id:
            same = "" if os.path.abspath(inputs_by_id[key]) == os.path.abspath(path) else f" (the same file as {inputs_by_id[key]})"
            raise OutputError(f"{option} {path} is an input{same}: writing it would destroy it; choose another output name")
        if key in seen:
            raise OutputError(f"{option} {path} names the same file as {seen[key]}: one of them would be lost; give each output its own name")
        seen[key] = f"{option} {path}"


def require_inputs(paths: Sequence[str | os.PathLike | None]) -> None:
    """Fail before any slow start-up when an input file is missing (``-`` and None pass).

    Raises:
        InputError: the first missing file.
    """
    for path in paths:
        if path is not None and str(path) != "-" and not Path(path).exists():
            raise InputError(f"input file not found: {path}")
