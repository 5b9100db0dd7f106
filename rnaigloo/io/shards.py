"""Split FASTA input into shards by record, with a manifest for merging their results.

A pipeline engine (Snakemake, Nextflow) classifies a large assembly as many jobs:
``rnaigloo split`` cuts the input into K shards of consecutive records, each shard is
classified on its own, and ``rnaigloo merge`` (:mod:`rnaigloo.classify.merge`) joins the
tables into exactly the table one ``rnaigloo classify`` run over the whole input writes.

The split reads every record through the same reader as ``classify``, in one stream over
all inputs, so anything a single run would reject (a duplicate ID across inputs or across
what become different shards, a protein record, a truncated gzip) is rejected by the
split with the same message, before any job starts. The split writes a manifest beside
the shards (records, first and last header of each); the merge checks each table
against it, so a missing, repeated, truncated or foreign table is an error rather than a
silently wrong result, and it orders the tables itself (pipeline engines may hand them
over in any order).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from rnaigloo.errors import InputError
from rnaigloo.io.fasta import Record, read_many
from rnaigloo.io.files import publish

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "rnaigloo-shards"
MANIFEST_VERSION = 1


def shard_names(shards: int, gzipped: bool = False) -> list[str]:
    """File names of the shards ``split`` writes: shard_0001.fa ... (zero-padded, 1-based)."""
    width = max(4, len(str(shards)))
    ext = ".fa.gz" if gzipped else ".fa"
    return [f"shard_{i:0{width}d}{ext}" for i in range(1, shards + 1)]


@dataclass(frozen=True)
class Shard:
    """One shard as the manifest records it (``first``, ``last``: header lines without ``>``)."""

    file: str
    records: int
    first: str
    last: str


def shard_sizes(total: int, shards: int, batch_size: int = 1) -> list[int]:
    """Records per shard: whole batches of ``batch_size``, spread as evenly as can be.

    The first ``batches % shards`` shards get one batch more; the last batch of the input
    (which may be short) ends the last shard.

    Raises:
        InputError: fewer batches than shards.
    """
    batches = -(-total // batch_size)
    if batches < shards:
        what = f"{total} record(s)" + (f" ({batches} batch(es) of {batch_size})" if batch_size > 1 else "")
        raise InputError(f"{what} cannot fill {shards} shards; ask for {batches} shard(s) or fewer")
    base, extra = divmod(batches, shards)
    sizes = [(base + (1 if i < extra else 0)) * batch_size for i in range(shards)]
    sizes[-1] -= sum(sizes) - total
    return sizes


def split_fasta(
    inputs: Sequence[str | os.PathLike],
    shards: int,
    out_dir: str | os.PathLike,
    batch_size: int = 256,
    gzipped: bool = False,
    log: Callable[[str], None] | None = None,
) -> list[Shard]:
    """Split FASTA files into ``shards`` files of consecutive records, plus a manifest.

    The inputs are read twice (once to check and count, once to write), so they must be
    files, not stdin. Every shard file and the manifest appear only when all are complete;
    the manifest is renamed into place last.

    Args:
        inputs: FASTA files (plain or compressed), read in the order given.
        shards: how many shards to write; at most the number of records.
        out_dir: directory for the shards and ``manifest.json`` (created if missing).
        batch_size: the ``-b`` of the ``classify`` runs. Shards hold whole batches, so each
            record is scored in the same batch as in one run over the whole input: scores
            depend on a batch's shapes in their last bits, and this keeps the merged table
            identical to the single run's, not merely within 1e-5.
        gzipped: write ``.fa.gz`` shards (fast gzip level) instead of plain FASTA.
        log: called with a line of progress news, if given.

    Returns:
        The shards, in input order.

    Raises:
        InputError: bad input (as ``classify`` reports it), stdin given, or fewer records
            than shards.
    """
    out = _check_split(inputs, shards, out_dir, batch_size)
    total = sum(1 for _ in read_many(inputs))  # every check a single classify run makes
    sizes = shard_sizes(total, shards, batch_size)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot create the shard directory {out}: {err.strerror}") from None
    if log:
        log(f"{total} records checked; writing {shards} shards to {out}")

    names = shard_names(shards, gzipped)
    temps: list[str] = []
    written: list[Shard] = []
    try:
        records = read_many(inputs)
        for name, size in zip(names, sizes):
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=out)
            temps.append(tmp)
            written.append(_write_shard(fd, name, size, records, gzipped, inputs[-1]))
        if next(records, None) is not None:
            raise InputError(f"{inputs[-1]}: more records on the second reading; did the input change?")
        manifest = {
            "format": MANIFEST_FORMAT,
            "version": MANIFEST_VERSION,
            "inputs": [str(p) for p in inputs],
            "records": total,
            "batch_size": batch_size,
            "shards": [vars(s) for s in written],
        }
        fd, tmp = tempfile.mkstemp(prefix=f".{MANIFEST_NAME}.", suffix=".part", dir=out)
        temps.append(tmp)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=1)
            fh.write("\n")
        for tmp, name in zip(temps, [*names, MANIFEST_NAME]):
            publish(tmp, out / name)
    except BaseException:
        for tmp in temps:
            Path(tmp).unlink(missing_ok=True)
        raise
    return written


def _check_split(inputs: Sequence[str | os.PathLike], shards: int, out_dir: str | os.PathLike, batch_size: int) -> Path:
    """The shard directory, once the arguments are checked (before any record is read)."""
    if shards < 1:
        raise InputError(f"expected at least 1 shard, found {shards}")
    if not inputs:
        raise InputError("no input files given")
    for path in inputs:
        if str(path) == "-":
            raise InputError("split reads its input twice; give a file, not '-' (stdin)")
        if not Path(path).exists():
            raise InputError(f"input file not found: {path}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"cannot write shards to {out}: it is not a directory")
    if batch_size < 1:
        raise InputError(f"expected a batch size of at least 1, found {batch_size}")
    return out


def _write_shard(fd: int, name: str, size: int, records: Iterator[Record], gzipped: bool, last_input: str | os.PathLike) -> Shard:
    """Write the next ``size`` records to the open temporary file ``fd``."""
    first = last = ""
    with _shard_writer(fd, gzipped) as fh:
        for k in range(size):
            rec = next(records, None)
            if rec is None:
                raise InputError(f"{last_input}: fewer records on the second reading; did the input change?")
            fh.write(f">{rec.header}\n{rec.sequence}\n" if rec.sequence else f">{rec.header}\n")
            if k == 0:
                first = rec.header
            last = rec.header
    return Shard(name, size, first, last)


@contextmanager
def _shard_writer(fd: int, gzipped: bool) -> Iterator[IO[str]]:
    """A UTF-8 text writer on an open file descriptor, gzip-compressed if asked."""
    with os.fdopen(fd, "wb") as raw:
        if gzipped:
            with (
                gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1) as gz,
                io.TextIOWrapper(gz, encoding="utf-8", newline="\n") as fh,
            ):
                yield fh
        else:
            with io.TextIOWrapper(raw, encoding="utf-8", newline="\n") as fh:
                yield fh


def read_manifest(path: str | os.PathLike) -> list[Shard]:
    """The shards a ``split`` wrote, from its manifest.

    Raises:
        InputError: the file is missing or is not a shard manifest.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"shard manifest not found: {path}") from None
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: cannot read the shard manifest ({err})") from None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise InputError(f"{path}: not a shard manifest written by 'rnaigloo split'")
    if data.get("version") != MANIFEST_VERSION:
        raise InputError(f"{path}: shard manifest version {data.get('version')}; this rnaigloo reads {MANIFEST_VERSION}")
    try:
        return [Shard(str(s["file"]), int(s["records"]), str(s["first"]), str(s["last"])) for s in data["shards"]]
    except (KeyError, TypeError, ValueError):
        raise InputError(f"{path}: shard manifest is damaged (a shard entry lacks file, records, first or last)") from None
