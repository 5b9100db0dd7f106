"""Property-based checks of the encoders on arbitrary letter sequences (hypothesis)."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

import rnaigloo.encoding.encoder as encoder_module
from rnaigloo.encoding.encoder import encode_sequences, orf_hexamer_counts
from rnaigloo.encoding.reference import longest_orf, orf_protein_tokens, transcript_features, window_start
from rnaigloo.encoding.tables import HEXAMER_SCALE, N_AA_TOKENS, N_FEATURES, OPEN_FRAME_MARGIN, ORF_SEARCH, n_features
from rnaigloo.encoding.translation import codon_codes, nucleotide_tokens, translate_orf

# mostly nucleotides, with some lowercase, U, IUPAC and other letters mixed in
letters = st.text(alphabet="ACGTACGTACGTacgtuUNRYKM", max_size=600)
STOPS = ("TAA", "TAG", "TGA")
# a hexamer table as training makes them (multiples of 1 / HEXAMER_SCALE), seeded
TABLE = np.round(np.random.default_rng(11).normal(0, 1.5, 4096) * HEXAMER_SCALE) / HEXAMER_SCALE


def _clean(seq: str) -> str:
    return re.sub("[^ACGT]", "N", seq.upper().replace("U", "T"))


@settings(max_examples=300, deadline=None)
@given(letters)
def test_longest_orf_is_a_real_orf_and_the_longest(seq):
    clean = _clean(seq)
    orf = longest_orf(nucleotide_tokens(seq), five_prime_open=False)
    # brute force over every ATG
    best = 0
    for i in range(len(clean) - 2):
        if clean[i : i + 3] != "ATG":
            continue
        j = i
        while j + 3 <= len(clean) and clean[j : j + 3] not in STOPS:
            j += 3
        end = j + 3 if j + 3 <= len(clean) else j
        best = max(best, end - i)
    assert orf.length == best
    if orf.found:
        body = clean[orf.start - 1 : orf.end]
        assert body.startswith("ATG") and 1 <= orf.start <= orf.end <= len(clean)
        codons = [body[k : k + 3] for k in range(0, len(body) - 2, 3)]
        inner = codons[:-1] if orf.three_prime_complete else codons
        assert not any(c in STOPS for c in inner)
        if orf.three_prime_complete:
            assert codons[-1] in STOPS and len(body) % 3 == 0
        else:
            assert len(clean) - orf.end < 3  # it ran off the 3' end
        upstream = [clean[k : k + 3] for k in range((orf.start - 1) % 3, orf.start - 1, 3)]
        assert orf.five_prime_complete == any(c in STOPS for c in upstream)


def _first_stop_end(clean: str, frame: int) -> tuple[int, bool]:
    """End (1-based) of the frame's first stop codon, or of its last whole codon."""
    j = frame
    while j + 3 <= len(clean):
        if clean[j : j + 3] in STOPS:
            return j + 3, True
        j += 3
    return j, False


@settings(max_examples=300, deadline=None)
@given(letters, st.sampled_from([1.0, OPEN_FRAME_MARGIN]))
def test_five_prime_open_search_matches_brute_force(seq, margin):
    clean = _clean(seq)
    atg = longest_orf(nucleotide_tokens(seq), five_prime_open=False)
    orf = longest_orf(nucleotide_tokens(seq), margin=margin)
    best_open, best_frame = 0, None
    for frame in range(3):
        end, complete = _first_stop_end(clean, frame)
        if end - frame - (3 if complete else 0) >= 3 and end - frame > best_open:
            best_open, best_frame = end - frame, frame
    open_wins = best_open > atg.length and best_open >= margin * atg.length
    assert orf.length == (best_open if open_wins else atg.length)
    if open_wins:
        assert orf.start == best_frame + 1 and not orf.five_prime_complete
        body = clean[orf.start - 1 : orf.end]
        codons = [body[k : k + 3] for k in range(0, len(body) - 2, 3)]
        inner = codons[:-1] if orf.three_prime_complete else codons
        assert len(body) % 3 == 0 and not any(c in STOPS for c in inner)
    else:
        assert orf == atg


@settings(max_examples=200, deadline=None)
@given(st.lists(letters, max_size=5), st.integers(30, 400), st.integers(5, 100))
def test_encode_never_fails_and_keeps_its_shapes(seqs, nuc_len, prot_len):
    batch = encode_sequences(seqs, nuc_len, prot_len)
    assert batch.nucleotides.shape == (len(seqs), nuc_len)
    assert batch.proteins.shape == (len(seqs), prot_len)
    assert batch.features.shape == (len(seqs), N_FEATURES)
    assert batch.nucleotides.max(initial=0) <= 5 and batch.proteins.max(initial=0) <= N_AA_TOKENS
    assert np.isfinite(batch.features).all()
    for i, seq in enumerate(seqs):
        shown = min(len(seq), nuc_len)
        assert (batch.nucleotides[i, :shown] > 0).all() and (batch.nucleotides[i, shown:] == 0).all()
        orf = batch.orfs[i]
        protein = translate_orf(codon_codes(nucleotide_tokens(seq)), orf)
        assert (batch.proteins[i] > 0).sum() == min(len(protein), prot_len)
        if orf.found and orf.length <= nuc_len:
            start = window_start(len(seq), orf, nuc_len)
            assert start <= orf.start - 1 and orf.end <= start + nuc_len  # the whole ORF is in view


def _one_by_one(seqs, nuc_len, prot_len, version):
    """The encoding built from the per-transcript functions, one transcript at a time."""
    five_prime_open, margin = {1: (False, 1.0), 2: (True, 1.0), 3: (True, OPEN_FRAME_MARGIN), 4: (False, 1.0)}[version]
    nuc = np.zeros((len(seqs), nuc_len), dtype=np.uint8)
    prot = np.zeros((len(seqs), prot_len), dtype=np.uint8)
    feats = np.zeros((len(seqs), n_features(version)), dtype=np.float32)
    orfs = []
    for i, seq in enumerate(seqs):
        tokens = nucleotide_tokens(seq)
        codes = codon_codes(tokens)
        orf = longest_orf(tokens, codes, five_prime_open, margin)
        protein = orf_protein_tokens(codes, orf)
        start = window_start(len(tokens), orf, nuc_len)
        window = tokens[start : start + nuc_len]
        nuc[i, : len(window)] = window
        prot[i, : min(len(protein), prot_len)] = protein[:prot_len]
        transcript_features(tokens, codes, orf, protein, out=feats[i], version=version, hexamer_table=TABLE)
        orfs.append(orf)
    return nuc, prot, feats, orfs


# ORF-rich sequences: start and stop codons are common, so every branch of the search runs
orfish = st.lists(st.sampled_from(["ATG", "TAA", "TAG", "TGA", "A", "C", "G", "T", "GCC", "N", "u"]), max_size=200).map(
    "".join
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.one_of(letters, orfish), max_size=12),
    st.integers(5, 400),
    st.integers(1, 60),
    st.sampled_from([1, 2, 3, 4]),
)
@example(["AAA", "A"], 5, 1, 1)  # a codon at one transcript's end, the next transcript's base after it
@example(["ACGNT", "N", "GGNNC", "TAN", ""], 3, 2, 3)  # k-mers cut by Ns and ends
@example(["ATGAAATTTGGGTAA", "", "N", "CCATGCCCTGA" * 30], 20, 5, 4)  # version 4: scores, shares, positions
def test_batch_encoding_equals_the_per_transcript_functions(seqs, nuc_len, prot_len, version):
    nuc, prot, feats, orfs = _one_by_one(seqs, nuc_len, prot_len, version)
    batch = encode_sequences(seqs, nuc_len, prot_len, version, TABLE)
    assert batch.orfs == orfs
    np.testing.assert_array_equal(batch.nucleotides, nuc)
    np.testing.assert_array_equal(batch.proteins, prot)
    np.testing.assert_array_equal(batch.features, feats)  # bit for bit, not approximately
    assert batch.lengths.tolist() == [len(s) for s in seqs]


def test_batch_encoding_in_groups_equals_one_group(monkeypatch):
    """Many transcripts are encoded in groups; where the groups split changes nothing."""
    rng = np.random.default_rng(3)
    seqs = [
        "".join(rng.choice(list("ACGTN"), p=[0.24, 0.24, 0.24, 0.24, 0.04], size=n)) for n in rng.integers(0, 900, 70)
    ]
    whole = [encode_sequences(seqs, 500, 80), encode_sequences(seqs, 500, 80, 4, TABLE)]
    counts = orf_hexamer_counts(seqs, 4)
    monkeypatch.setattr(encoder_module, "GROUP_TRANSCRIPTS", 7)
    monkeypatch.setattr(encoder_module, "GROUP_BASES", 2000)
    assert len(encoder_module.groups(whole[0].lengths)) > 10
    split = [encode_sequences(seqs, 500, 80), encode_sequences(seqs, 500, 80, 4, TABLE)]
    np.testing.assert_array_equal(orf_hexamer_counts(seqs, 4), counts)
    for one, many in zip(whole, split):
        assert many.orfs == one.orfs
        for name in ("nucleotides", "proteins", "features"):
            np.testing.assert_array_equal(getattr(many, name), getattr(one, name))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(letters, orfish), max_size=8), st.sampled_from([1, 3, 4]))
def test_orf_hexamer_counts_are_the_in_frame_codon_pairs_of_each_longest_orf(seqs, version):
    """What a hexamer table is learned from: the pairs of adjacent whole codons of each ORF."""
    expected = np.zeros(4096, dtype=np.int64)
    for seq in seqs:
        clean = _clean(seq)
        orf = longest_orf(nucleotide_tokens(seq), None, *ORF_SEARCH[version])
        if not orf.found:
            continue
        last = orf.end - 3 if orf.three_prime_complete else orf.end
        codons = [clean[k : k + 3] for k in range(orf.start - 1, last - 2, 3)]
        for a, b in zip(codons[:-1], codons[1:]):
            if "N" not in a + b:
                expected[int("".join("ACGT".index(c).__str__() for c in a + b), 4)] += 1
    np.testing.assert_array_equal(orf_hexamer_counts(seqs, version), expected)


def test_groups_cover_every_row_once_and_keep_long_transcripts_alone(monkeypatch):
    monkeypatch.setattr(encoder_module, "GROUP_TRANSCRIPTS", 3)
    monkeypatch.setattr(encoder_module, "GROUP_BASES", 100)
    lengths = np.array([10, 10, 10, 10, 500, 0, 60, 60])
    assert encoder_module.groups(lengths) == [(0, 3), (3, 4), (4, 5), (5, 7), (7, 8)]
    assert encoder_module.groups(np.zeros(0, dtype=np.int64)) == []
