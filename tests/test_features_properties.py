"""Property-based checks of the encoders on arbitrary letter sequences (hypothesis)."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rnaigloo.encoding.features import (
    N_AA_TOKENS,
    N_FEATURES,
    OPEN_FRAME_MARGIN,
    codon_codes,
    encode_sequences,
    longest_orf,
    nucleotide_tokens,
    translate_orf,
    window_start,
)

# mostly nucleotides, with some lowercase, U, IUPAC and other letters mixed in
letters = st.text(alphabet="ACGTACGTACGTacgtuUNRYKM", max_size=600)
STOPS = ("TAA", "TAG", "TGA")


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
