"""Merge the classify tables of the shards of one ``rnaigloo split`` into the single-run table."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import IO

from rnaigloo.classify.writers import clean_name, tsv_header
from rnaigloo.errors import InputError
from rnaigloo.io.files import atomic_output
from rnaigloo.io.shards import read_manifest


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
    by_first = {clean_name(s.first): i for i, s in enumerate(shards)}  # as the tables write names
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
            last = clean_name(shard.last)
            if n != shard.records or name != last:
                raise InputError(
                    f"{table}: expected the {shard.records} rows of {shard.file} (last {last!r}), "
                    f"found {n} rows (last {name!r}); was the shard classified completely?"
                )
            rows += n
    return rows
