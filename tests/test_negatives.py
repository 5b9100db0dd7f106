"""Non-coding sets for species without lncRNAs: k-let shuffles and intergenic windows."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from synthetic_genome import genome_sequences, write_fasta

from rnaigloo.errors import InputError
from rnaigloo.io.annotation import Transcript
from rnaigloo.io.genome import Genome, reverse_complement
from rnaigloo.training.negatives import intergenic_windows, klet_shuffle, shuffled_negatives


def _klets(seq: str, k: int) -> Counter:
    return Counter(seq[i : i + k] for i in range(len(seq) - k + 1))


@settings(max_examples=200, deadline=None)
@given(seq=st.text(alphabet="ACGTN", max_size=300), k=st.integers(1, 7), seed=st.integers(0, 2**32 - 1))
def test_shuffle_keeps_every_klet_count(seq, k, seed):
    out = klet_shuffle(seq, k, np.random.default_rng(seed))
    assert len(out) == len(seq)
    assert _klets(out, k) == _klets(seq, k)
    assert Counter(out) == Counter(seq)
    assert out[: k - 1] == seq[: k - 1]


def test_shuffle_changes_the_sequence_and_is_seeded():
    rng = np.random.default_rng(0)
    seq = "".join(rng.choice(list("ACGT"), 3000))
    a = klet_shuffle(seq, 2, np.random.default_rng(5))
    assert a == klet_shuffle(seq, 2, np.random.default_rng(5))
    assert a != klet_shuffle(seq, 2, np.random.default_rng(6))
    assert sum(x != y for x, y in zip(a, seq)) > 1000


def test_shuffle_draws_every_arrangement():
    # "AACAGA" with k=2: the Eulerian paths from A to A over edges AA, AC, CA, AG, GA
    # spell exactly these sequences; a uniform shuffle reaches each about equally often
    seen = Counter(klet_shuffle("AACAGA", 2, np.random.default_rng(i)) for i in range(3000))
    assert set(seen) == {"AACAGA", "AAGACA", "ACAAGA", "ACAGAA", "AGAACA", "AGACAA"}
    assert min(seen.values()) > 3000 / 6 * 0.8


def test_shuffled_negatives_summary():
    neg = shuffled_negatives(["a", "b"], ["ATGAAACCCGGGTAA", "acgtacgtacgt"], ["g1", "g2"], k=3, seed=9)
    assert neg.ids == ["shuffle3:a", "shuffle3:b"]
    assert neg.groups == ["g1", "g2"]
    assert neg.summary["seed"] == 9 and neg.summary["k"] == 3 and neg.summary["count"] == 2
    assert neg.sequences[1].isupper()
    with pytest.raises(InputError, match="--shuffle-k"):
        shuffled_negatives(["a"], ["ACGT"], ["g"], k=0, seed=1)


def _tx(tid, chrom, start, end):
    return Transcript(tid, chrom, "+", ((start, end),), None, "a.gtf", 1)


def test_intergenic_windows_stay_away_from_genes(tmp_path):
    seqs = genome_sequences()
    seqs["chr3"] = "N" * 3000  # all-N: never usable
    path = write_fasta(tmp_path / "g.fa", seqs)
    genes = [_tx("t1", "chr1", 1000, 1500), _tx("t2", "chr2", 200, 400)]
    lengths = [100, 200, 150] * 10
    with Genome(path) as g:
        neg = intergenic_windows(g, genes, lengths, seed=3, flank=300)
        again = intergenic_windows(g, genes, lengths, seed=3, flank=300)
    assert neg.sequences == again.sequences and neg.ids == again.ids
    assert sorted(len(s) for s in neg.sequences) == sorted(lengths)
    assert neg.summary["count"] == 30 and neg.summary["not_drawn"] == 0 and neg.summary["seed"] == 3
    for wid, seq in zip(neg.ids, neg.sequences):
        chrom, span = wid.split(":", 1)[1].split(":")
        start, end = (int(x) for x in span.split("(")[0].split("-"))
        assert chrom != "chr3"
        forward = seqs[chrom][start - 1 : end]
        assert seq == (reverse_complement(forward) if span.endswith("(-)") else forward)
        for t in genes:
            if t.chrom == chrom:
                assert end < t.start - 300 or start > t.end + 300


def test_intergenic_windows_skip_n_rich_and_report_what_does_not_fit(tmp_path):
    path = write_fasta(tmp_path / "g.fa", {"c1": "ACGT" * 50 + "N" * 400})
    with Genome(path) as g:
        neg = intergenic_windows(g, [], [150, 150, 5000], seed=1, tries=50)
    assert neg.summary["requested"] == 3
    assert neg.summary["longer_than_any_free_stretch"] == 1
    assert all(s.count("N") <= 15 for s in neg.sequences)
    assert neg.summary["windows_redrawn_for_n"] > 0
    with Genome(path) as g, pytest.raises(InputError, match="no intergenic sequence"):
        intergenic_windows(g, [_tx("t", "c1", 1, 600)], [100], seed=1)
