"""Split FASTA input into shards by record, and merge the shards' tables back in input order.

A pipeline engine (Snakemake, Nextflow) classifies a large assembly as many jobs:
``rnaigloo split`` cuts the input into K shards of consecutive records, each shard is
classified on its own, and ``rnaigloo merge`` joins the tables into exactly the table one
``rnaigloo classify`` run over the whole input writes.

The split reads every record through the same reader as ``classify``, in one stream over
all inputs, so anything a single run would reject (a duplicate ID across inputs or across
what become different shards, a protein record, a truncated gzip) is rejected by the
split with the same message, before any job starts. The split writes a manifest beside
the shards (records, first and last sequence name of each); the merge checks each table
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

from rnaigloo.classify.classifier import atomic_output, clean_name, tsv_header
from rnaigloo.errors import InputError
from rnaigloo.io.fasta import read_many
from rnaigloo.network.modelfile import publish

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
    """One shard as the manifest records it."""

    file: str
    records: int
    first: str
    last: str


def _shard_sizes(total: int, shards: int) -> list[int]:
    """Consecutive blocks as even as can be: the first ``total % shards`` get one record more."""
    base, extra = divmod(total, shards)
    return [base + (1 if i < extra else 0) for i in range(shards)]


def split_fasta(
    inputs: Sequence[str | os.PathLike],
    shards: int,
    out_dir: str | os.PathLike,
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
        gzipped: write ``.fa.gz`` shards (fast gzip level) instead of plain FASTA.
        log: called with a line of progress news, if given.

    Returns:
        The shards, in input order.

    Raises:
        InputError: bad input (as ``classify`` reports it), stdin given, or fewer records
            than shards.
    """
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

    total = sum(1 for _ in read_many(inputs))  # every check a single classify run makes
    if total < shards:
        raise InputError(f"{total} record(s) cannot fill {shards} shards; ask for {total} shard(s) or fewer")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot create the shard directory {out}: {err.strerror}") from None
    if log:
        log(f"{total} records checked; writing {shards} shards to {out}")

    names = shard_names(shards, gzipped)
    sizes = _shard_sizes(total, shards)
    temps: list[str] = []
    written: list[Shard] = []
    try:
        records = read_many(inputs)
        for name, size in zip(names, sizes):
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=out)
            temps.append(tmp)
            first = last = ""
            with _shard_writer(fd, gzipped) as fh:
                for k in range(size):
                    rec = next(records)
                    fh.write(f">{rec.header}\n{rec.sequence}\n" if rec.sequence else f">{rec.header}\n")
                    if k == 0:
                        first = clean_name(rec.header)
                    last = clean_name(rec.header)
            written.append(Shard(name, size, first, last))
        manifest = {
            "format": MANIFEST_FORMAT,
            "version": MANIFEST_VERSION,
            "inputs": [str(p) for p in inputs],
            "records": total,
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


def _first_name(path: str | os.PathLike) -> tuple[str, str]:
    """The header line and the first row's sequence name of a table."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            header = fh.readline()
            row = fh.readline()
    except FileNotFoundError:
        raise InputError(f"table not found: {path}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read the table ({err})") from None
    return header, row.split("\t", 1)[0] if row else ""


def merge_tables(
    tables: Sequence[str | os.PathLike],
    manifest: str | os.PathLike,
    output: str | os.PathLike | None,
    stdout: IO[str],
) -> int:
    """Join the shards' classify tables into the table of one run over the whole input.

    Each table is matched to its shard by its first sequence name, so the tables may be
    given in any order; each must hold exactly its shard's records (count, first and last
    name) under the classify header. The output appears only when complete.

    Args:
        tables: one classify TSV per shard.
        manifest: the ``manifest.json`` that ``split`` wrote with the shards.
        output: the merged TSV (``None`` or ``-`` for ``stdout``).
        stdout: where ``-`` writes.

    Returns:
        The number of rows written.

    Raises:
        InputError: a table is missing, repeated, foreign, truncated or has another header.
    """
    shards = read_manifest(manifest)
    by_first = {s.first: i for i, s in enumerate(shards)}
    placed: dict[int, str | os.PathLike] = {}
    header = tsv_header()
    for table in tables:
        found_header, first = _first_name(table)
        if found_header != header:
            shown = found_header.rstrip("\n")[:80] or "an empty file"
            raise InputError(f"{table}: expected a classify table with the header {header.rstrip()!r}, found {shown!r}")
        i = by_first.get(first)
        if i is None:
            raise InputError(f"{table}: its first row ({first!r}) starts none of the shards in {manifest}")
        if i in placed:
            raise InputError(f"{table} and {placed[i]} are both the table of {shards[i].file}; give each shard's table once")
        placed[i] = table
    missing = [s.file for i, s in enumerate(shards) if i not in placed]
    if missing:
        raise InputError(f"no table given for {len(missing)} of {len(shards)} shards (first: {missing[0]})")

    rows = 0
    columns = header.count("\t")
    with atomic_output(output, stdout) as out:
        out.write(header)
        for i, shard in enumerate(shards):
            table = placed[i]
            n = 0
            name = ""
            with open(table, encoding="utf-8", newline="") as fh:
                fh.readline()
                for line in fh:
                    if not line.endswith("\n") or line.count("\t") != columns:
                        raise InputError(f"{table}, row {n + 1}: expected {columns + 1} tab-separated fields and a line end")
                    out.write(line)
                    n += 1
                    name = line.split("\t", 1)[0]
            if n != shard.records or name != shard.last:
                raise InputError(
                    f"{table}: expected the {shard.records} rows of {shard.file} (last {shard.last!r}), "
                    f"found {n} rows (last {name!r}); was the shard classified completely?"
                )
            rows += n
    return rows
