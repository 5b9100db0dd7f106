"""Non-coding training sets for species without known lncRNAs (FEELnc's two modes).

- ``shuffle``: each known mRNA shuffled so that every k-let (k-mer) occurs exactly as
  often as in the original (:func:`klet_shuffle`). Composition stays; ORFs, codon
  periodicity and everything longer than k are destroyed.
- ``intergenic``: windows of the genome away from every annotated transcript (and a
  flank around each), with the lengths of the known mRNAs, on a random strand; windows
  with too many ``N`` are drawn again (:func:`intergenic_windows`).

Both are seeded; the seed and what was drawn go into the model card.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rnaigloo.errors import InputError
from rnaigloo.io.annotation import Transcript
from rnaigloo.io.genome import Genome, reverse_complement
from rnaigloo.io.labelled import LabelledData

NONCODING_MODES = ("shuffle", "intergenic")


def klet_shuffle(seq: str, k: int, rng: np.random.Generator) -> str:
    """A random sequence with exactly the k-let counts of ``seq`` (uniform among them).

    The Altschul-Erikson / Kandel et al. algorithm, as in uShuffle: the (k-1)-mers are
    vertices and each k-let of ``seq`` an edge, so ``seq`` is an Eulerian path from its
    first to its last (k-1)-mer. A random spanning arborescence towards the last vertex
    (Wilson's algorithm) fixes each vertex's last exit; the other exits are permuted,
    and the walk that follows them is a uniformly drawn Eulerian path, hence a
    uniformly drawn sequence with the same k-let counts (and the same first k-1 letters).

    Args:
        seq: the sequence (letters taken as they are; uppercase it first to merge
            soft-masked letters).
        k: the k-let size; 1 is a plain permutation.
        rng: the random generator.
    """
    n = len(seq)
    if k < 1:
        raise ValueError("k must be at least 1")
    if k == 1:
        letters = list(seq)
        rng.shuffle(letters)
        return "".join(letters)
    if n <= k:
        return seq
    m = k - 1
    exits: dict[str, list[str]] = {}
    for i in range(n - m):
        exits.setdefault(seq[i : i + m], []).append(seq[i + m])
    last = seq[n - m :]
    in_tree = {last}
    chosen: dict[str, int] = {}
    for v in exits:
        u = v
        while u not in in_tree:  # random walk until the tree; later choices erase loops
            i = int(rng.integers(len(exits[u])))
            chosen[u] = i
            u = u[1:] + exits[u][i]
        u = v
        while u not in in_tree:
            in_tree.add(u)
            u = u[1:] + exits[u][chosen[u]]
    for v, letters in exits.items():
        final = letters.pop(chosen[v]) if v in chosen else None
        rng.shuffle(letters)
        if final is not None:
            letters.append(final)
        letters.reverse()  # consumed from the end below
    out = [seq[:m]]
    u = seq[:m]
    for _ in range(n - m):
        c = exits[u].pop()
        out.append(c)
        u = u[1:] + c
    return "".join(out)


@dataclass
class Negatives:
    """Generated non-coding transcripts and what the card says about them."""

    ids: list[str]
    sequences: list[str]
    groups: list[str]
    summary: dict = field(default_factory=dict)


def shuffled_negatives(
    ids: Sequence[str], sequences: Sequence[str], groups: Sequence[str], k: int, seed: int
) -> Negatives:
    """One k-let shuffle of each sequence, seeded by ``(seed, index)``.

    A shuffle keeps its source's group, so the validation split never puts an mRNA and
    its own shuffle on different sides.
    """
    if not 1 <= k <= 12:
        raise InputError(f"--shuffle-k must be between 1 and 12, found {k}")
    upper = [s.upper() for s in sequences]
    out = [klet_shuffle(s, k, np.random.default_rng([seed, 1, i])) for i, s in enumerate(upper)]
    unchanged = sum(a == b for a, b in zip(out, upper))
    return Negatives(
        ids=[f"shuffle{k}:{i}" for i in ids],
        sequences=out,
        groups=list(groups),
        summary={
            "mode": "shuffle",
            "k": k,
            "seed": seed,
            "count": len(out),
            "unchanged_by_shuffle": unchanged,
            "rule": f"one {k}-let-preserving shuffle of each coding transcript (Euler-path shuffle)",
        },
    )


def _free_intervals(
    lengths: dict[str, int], transcripts: Sequence[Transcript], flank: int
) -> list[tuple[str, int, int]]:
    """Stretches of each genome sequence (1-based, closed) at least ``flank`` nt from any transcript."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for t in transcripts:
        spans.setdefault(t.chrom, []).append((max(1, t.start - flank), t.end + flank))
    free = []
    for chrom, length in lengths.items():
        pos = 1
        for s, e in sorted(spans.get(chrom, [])):
            if s > pos:
                free.append((chrom, pos, min(s - 1, length)))
            pos = max(pos, e + 1)
        if pos <= length:
            free.append((chrom, pos, length))
    return [f for f in free if f[2] >= f[1]]


def intergenic_windows(
    genome: Genome,
    transcripts: Sequence[Transcript],
    lengths: Sequence[int],
    seed: int,
    flank: int = 1000,
    max_n_fraction: float = 0.1,
    tries: int = 200,
) -> Negatives:
    """One genome window per length in ``lengths``, away from every transcript given.

    A window's start is drawn uniformly among the positions where a window of its
    length fits in a free stretch (rejection sampling over the free positions), its
    strand at random. A window whose share of ``N`` is above ``max_n_fraction`` is drawn
    again, at most ``tries`` times.

    Raises:
        InputError: the genome has no free stretch long enough for a window.
    """
    free = _free_intervals(genome.lengths, transcripts, flank)
    if not free:
        raise InputError(
            f"no intergenic sequence left in {genome.path.name} {flank} nt away from the annotated transcripts"
        )
    sizes = np.array([e - s + 1 for _, s, e in free], dtype=np.int64)
    cum = np.cumsum(sizes)
    total = int(cum[-1])
    longest = int(sizes.max())
    rng = np.random.default_rng([seed, 2])
    ids, seqs, n_rejected, too_long = [], [], 0, 0
    for number, want in enumerate(lengths, 1):
        want = int(want)
        if want > longest:
            too_long += 1
            continue
        for _ in range(tries):
            pos = int(rng.integers(total))
            j = int(np.searchsorted(cum, pos, side="right"))
            chrom, s, e = free[j]
            start = s + pos - (int(cum[j]) - int(sizes[j]))
            if start + want - 1 > e:
                continue
            seq = genome.fetch(chrom, start, start + want - 1)
            if seq.count("N") + seq.count("n") > max_n_fraction * want:
                n_rejected += 1
                continue
            strand = "-" if rng.random() < 0.5 else "+"
            if strand == "-":
                seq = reverse_complement(seq)
            ids.append(f"intergenic{number}:{chrom}:{start}-{start + want - 1}({strand})")
            seqs.append(seq)
            break
    missing = len(lengths) - len(seqs)
    return Negatives(
        ids=ids,
        sequences=seqs,
        groups=[f"intergenic:{i}" for i in ids],
        summary={
            "mode": "intergenic",
            "seed": seed,
            "count": len(seqs),
            "requested": len(lengths),
            "not_drawn": missing,
            "longer_than_any_free_stretch": too_long,
            "flank": flank,
            "max_n_fraction": max_n_fraction,
            "windows_redrawn_for_n": n_rejected,
            "free_sequence_nt": total,
            "rule": f"windows >= {flank} nt from any annotated transcript, lengths of the coding transcripts, random strand",
        },
    )


def add_negatives(
    data: LabelledData, coding: Sequence[object], mode: str | None, k: int, flank: int, seed: int, log
) -> dict | None:
    """Append a generated non-coding set to ``data`` (in place); its card summary, or None.

    Args:
        data: the labelled transcripts read so far (coding, maybe no non-coding).
        coding: the coding sources; ``intergenic`` takes the genome and the transcripts
            to keep away from from the annotated ones among them.
        mode: ``shuffle``, ``intergenic`` or None (nothing to add).
        k: the k-let size of ``shuffle``.
        flank: nt kept clear around each annotated transcript by ``intergenic``.
        seed: seeds either mode.
        log: where a line about what was made goes.

    Raises:
        InputError: an unknown mode, or ``intergenic`` without annotated coding transcripts.
    """
    if mode is None:
        return None
    if mode not in NONCODING_MODES:
        raise InputError(f"--noncoding-mode must be one of {', '.join(NONCODING_MODES)}, found {mode!r}")
    rows = np.flatnonzero(data.labels == 1)
    if mode == "shuffle":
        neg = shuffled_negatives(
            [str(i) for i in rows], [data.sequences[i] for i in rows], [data.groups[i] for i in rows], k, seed
        )
    else:
        annotated = [s for s in coding if hasattr(s, "transcripts")]
        if not annotated:
            raise InputError("--noncoding-mode intergenic needs --genome and --coding-gtf (to know where the genes are)")
        with Genome(annotated[0].genome_path) as genome:
            transcripts = [t for s in annotated for t in s.transcripts]
            neg = intergenic_windows(genome, transcripts, [len(data.sequences[i]) for i in rows], seed, flank)
        if neg.summary["not_drawn"]:
            log(f"{neg.summary['not_drawn']} of {neg.summary['requested']} intergenic windows could not be drawn (see the card)")
    data.sequences.extend(neg.sequences)
    data.labels = np.concatenate([data.labels, np.zeros(len(neg.sequences), dtype=np.int64)])
    data.groups.extend(neg.groups)
    data.files[f"<{mode}>"] = len(neg.sequences)
    log(f"made {len(neg.sequences)} non-coding transcripts: {neg.summary['rule']} (seed {seed})")
    return neg.summary
