"""Encodings and hand-made features, checked against values worked out by hand."""

from __future__ import annotations

import random

import numpy as np
import pytest

from rnaigloo.encoding.encoder import encode_sequences
from rnaigloo.encoding.reference import (
    kmer_frequencies,
    longest_orf,
    orf_protein_tokens,
    transcript_features,
    window_start,
)
from rnaigloo.encoding.tables import (
    AA_ALPHABET,
    FEATURE_NAMES,
    KMER_SIZES,
    N_AA_TOKENS,
    N_FEATURES,
    NO_ORF,
    OPEN_FRAME_MARGIN,
    Orf,
)
from rnaigloo.encoding.translation import codon_codes, nucleotide_tokens, translate_orf


def orf_of(seq: str) -> Orf:
    """The ATG-only search (encoding version 1); 5'-open frames have their own tests below."""
    return longest_orf(nucleotide_tokens(seq), five_prime_open=False)


def protein_of(seq: str) -> str:
    tokens = nucleotide_tokens(seq)
    codes = codon_codes(tokens)
    return translate_orf(codes, longest_orf(tokens, codes, five_prime_open=False))


def aa_token(letter: str) -> int:
    return AA_ALPHABET.index(letter) + 1


# ---------------------------------------------------------------------------- tokens


def test_tokens_uppercase():
    assert nucleotide_tokens("ACGTN").tolist() == [1, 2, 3, 4, 5]


def test_tokens_u_is_t_and_lowercase_is_uppercase():
    assert nucleotide_tokens("acgtuU").tolist() == [1, 2, 3, 4, 4, 4]


def test_tokens_iupac_and_other_letters_are_n():
    assert nucleotide_tokens("RYKMSWBDHVnX").tolist() == [5] * 12


def test_tokens_never_drop_a_letter():
    seq = "AcGuRyN-*é7"
    tokens = nucleotide_tokens(seq)
    assert len(tokens) == len(seq)
    assert tokens.tolist()[:4] == [1, 2, 3, 4]
    assert set(tokens.tolist()[4:]) == {5}


def test_tokens_empty():
    tokens = nucleotide_tokens("")
    assert tokens.shape == (0,) and tokens.dtype == np.uint8


# ---------------------------------------------------------------------------- k-mers


def test_kmer2_by_hand():
    freqs = kmer_frequencies(nucleotide_tokens("AACG"), 2)  # AA, AC, CG
    expected = np.zeros(16)
    expected[[0, 1, 6]] = 1 / 3
    assert freqs.dtype == np.float32 and freqs.shape == (16,)
    np.testing.assert_allclose(freqs, expected, rtol=1e-6)


def test_kmer3_by_hand():
    freqs = kmer_frequencies(nucleotide_tokens("AACG"), 3)  # AAC = 1, ACG = 0*16 + 1*4 + 2 = 6
    expected = np.zeros(64)
    expected[[1, 6]] = 0.5
    np.testing.assert_allclose(freqs, expected, rtol=1e-6)


def test_kmer_last_index_is_all_t():
    freqs = kmer_frequencies(nucleotide_tokens("TTTT"), 2)
    assert freqs[15] == 1.0 and freqs.sum() == 1.0


def test_kmer_u_and_lowercase_count_as_t_and_uppercase():
    np.testing.assert_array_equal(
        kmer_frequencies(nucleotide_tokens("acgu"), 2), kmer_frequencies(nucleotide_tokens("ACGT"), 2)
    )


def test_kmer_skips_kmers_with_n():
    freqs = kmer_frequencies(nucleotide_tokens("ACNGT"), 2)  # AC and GT count, CN and NG do not
    expected = np.zeros(16)
    expected[[1, 11]] = 0.5
    np.testing.assert_allclose(freqs, expected, rtol=1e-6)


def test_kmer_iupac_counts_as_n():
    np.testing.assert_array_equal(
        kmer_frequencies(nucleotide_tokens("ACRGT"), 2), kmer_frequencies(nucleotide_tokens("ACNGT"), 2)
    )


@pytest.mark.parametrize("seq", ["", "A", "AC"])
def test_kmer_shorter_than_k_is_zeros(seq):
    freqs = kmer_frequencies(nucleotide_tokens(seq), 3)
    assert freqs.shape == (64,) and not freqs.any()


def test_kmer_all_n_is_zeros():
    assert not kmer_frequencies(nucleotide_tokens("NNNNNN"), 2).any()


# ---------------------------------------------------------------------------- longest ORF


def test_no_atg_no_orf():
    orf = orf_of("CCCTAACCCTGAGG")
    assert orf == NO_ORF
    assert (orf.start, orf.end, orf.length, orf.found) == (0, 0, 0, False)


@pytest.mark.parametrize("seq", ["", "A", "AT"])
def test_too_short_for_orf(seq):
    assert orf_of(seq) == NO_ORF


def test_atg_without_stop_is_3prime_partial_to_last_full_codon():
    # CC ATG AAA CCC GG: the ORF runs to the last whole codon (CCC, ending at 11).
    orf = orf_of("CCATGAAACCCGG")
    assert orf == Orf(start=3, end=11, five_prime_complete=False, three_prime_complete=False)
    assert orf.length == 9


def test_atg_as_last_codon():
    assert orf_of("CCATG") == Orf(3, 5, False, False)


def test_complete_orf_includes_stop_codon():
    # ATG AAA CCC TAA, 1-based 1..12
    orf = orf_of("ATGAAACCCTAAGG")
    assert orf == Orf(1, 12, False, True)
    assert orf.length == 12


def test_nested_orfs_same_frame_longest_is_first_atg():
    # ATG AAA ATG CCC TAA: the second ATG is inside the first ORF.
    assert orf_of("ATGAAAATGCCCTAA") == Orf(1, 15, False, True)


def test_orfs_in_different_frames_longest_wins():
    # frame 0: ATG TAA (6 nt); frame 1 from position 8: ATG AAA CCC GGG TAG (15 nt)
    seq = "ATGTAACATGAAACCCGGGTAGC"
    assert orf_of(seq) == Orf(8, 22, False, True)


def test_tie_goes_to_earliest_start_even_in_a_later_frame():
    # frame 2 at 3: ATG AAA TAA (9 nt); frame 0 at 13: ATG CCC TGA (9 nt).
    seq = "CCATGAAATAAGATGCCCTGA"
    assert seq[2:5] == "ATG" and seq[12:15] == "ATG"
    assert orf_of(seq) == Orf(3, 11, False, True)


def test_tie_in_same_frame_goes_to_earliest_start():
    # two separate 9-nt ORFs in frame 0
    assert orf_of("ATGAAATAAATGCCCTGA") == Orf(1, 9, False, True)


def test_orf_at_the_very_3prime_end():
    orf = orf_of("CCCCATGTAA")
    assert orf == Orf(5, 10, False, True)
    assert orf.length == 6


def test_lowercase_and_u_give_the_same_orf():
    assert orf_of("ccaugaaauaacc") == orf_of("CCATGAAATAACC") == Orf(3, 11, False, True)


def test_n_inside_orf_does_not_stop_it():
    # ATG NNN AAA TAG
    assert orf_of("ATGNNNAAATAG") == Orf(1, 12, False, True)
    # TNA could have been a stop (TAA/TGA): with an N it is not one
    assert orf_of("ATGTNAAAATAA") == Orf(1, 12, False, True)


def test_n_in_start_codon_is_not_a_start():
    assert orf_of("ANGAAATAA") == NO_ORF


def test_five_prime_complete_needs_in_frame_upstream_stop():
    # TAA ATG AAA TAG: the stop is in frame, upstream of the ATG
    assert orf_of("TAAATGAAATAG") == Orf(4, 12, True, True)


def test_five_prime_partial_with_out_of_frame_upstream_stop():
    # TAA C ATG AAA TAG: the upstream stop is in another frame
    assert orf_of("TAACATGAAATAG") == Orf(5, 13, False, True)


def test_stop_after_orf_does_not_make_it_5prime_complete():
    # ATG TAA then an in-frame stop further downstream
    assert orf_of("ATGAAATAACCCTGA").five_prime_complete is False


def test_codes_argument_gives_same_result():
    tokens = nucleotide_tokens("GGATGCCCAAATAGG")
    assert longest_orf(tokens, codon_codes(tokens)) == longest_orf(tokens)
    assert longest_orf(tokens, codon_codes(tokens), False) == longest_orf(tokens, five_prime_open=False)


# ---------------------------------------------------------------------------- translation


def test_translate_complete_orf_without_stop():
    assert protein_of("CCATGAAACCCTAAGG") == "MKP"


def test_translate_3prime_open_orf():
    assert protein_of("ATGAAACC") == "MK"


def test_translate_n_codons_as_x():
    assert protein_of("ATGNNNAAATAG") == "MXK"
    assert protein_of("ATGCNTTAA") == "MX"


def test_translate_lowercase_u():
    assert protein_of("auggguuuuaa") == "MGF"


def test_translate_no_orf():
    tokens = nucleotide_tokens("CCCC")
    assert translate_orf(codon_codes(tokens), NO_ORF) == ""


def test_protein_tokens_match_translation():
    tokens = nucleotide_tokens("ATGAAANNNTGGTAA")
    codes = codon_codes(tokens)
    orf = longest_orf(tokens, codes, five_prime_open=False)
    assert orf_protein_tokens(codes, orf).tolist() == [aa_token("M"), aa_token("K"), N_AA_TOKENS, aa_token("W")]


# ---------------------------------------------------------------------------- window


def test_window_short_sequence_starts_at_zero():
    assert window_start(100, Orf(50, 90, True, True), 200) == 0
    assert window_start(200, NO_ORF, 200) == 0


def test_window_centred_on_orf():
    # ORF 401..600 (0-based 400..599): centre 500, window 400..599
    assert window_start(1000, Orf(401, 600, True, True), 200) == 400


def test_window_clamped_at_5prime_end():
    assert window_start(1000, Orf(1, 30, False, True), 200) == 0


def test_window_clamped_at_3prime_end():
    assert window_start(1000, Orf(971, 1000, True, True), 200) == 800


def test_window_without_orf_centred_on_transcript():
    assert window_start(1000, NO_ORF, 200) == 400
    assert window_start(5000, NO_ORF, 1000) == 2000


# ---------------------------------------------------------------------------- features


def _block(prefix: str) -> np.ndarray:
    """Indices of the features whose names start with ``prefix``, in order."""
    return np.array([i for i, name in enumerate(FEATURE_NAMES) if name.startswith(prefix)])


def test_feature_names_match_count():
    assert len(FEATURE_NAMES) == N_FEATURES
    assert len(set(FEATURE_NAMES)) == N_FEATURES
    assert FEATURE_NAMES[:5] == (
        "orf_log10_length",
        "orf_coverage",
        "has_orf",
        "orf_5prime_complete",
        "orf_3prime_complete",
    )
    for k in KMER_SIZES:
        assert len(_block(f"kmer_{k}_")) == 4**k
    assert len(_block("codon_")) == 64
    assert len(_block("aa_")) == N_AA_TOKENS


def _features(seq: str) -> np.ndarray:
    tokens = nucleotide_tokens(seq)
    codes = codon_codes(tokens)
    orf = longest_orf(tokens, codes, five_prime_open=False)
    vec = transcript_features(tokens, codes, orf, orf_protein_tokens(codes, orf))
    assert vec.dtype == np.float32 and vec.shape == (N_FEATURES,)
    return vec


def test_kmer_blocks_sum_to_one_for_plain_sequence():
    seq = "".join(random.Random(3).choice("ACGT") for _ in range(300))
    vec = _features(seq)
    for k in KMER_SIZES:
        assert vec[_block(f"kmer_{k}_")].sum() == pytest.approx(1.0, abs=1e-5)


def test_kmer_block_matches_kmer_frequencies():
    seq = "ACGTTGCANNACGGT"
    vec = _features(seq)
    for k in KMER_SIZES:
        np.testing.assert_array_equal(vec[_block(f"kmer_{k}_")], kmer_frequencies(nucleotide_tokens(seq), k))


def test_features_of_a_tiny_orf_by_hand():
    vec = _features("ATGAAATAA")  # ORF 1..9, codons ATG and AAA, protein MK
    assert vec[0] == pytest.approx(np.log10(9) / 5)
    assert vec[1:5].tolist() == [1.0, 1.0, 0.0, 1.0]  # coverage, has_orf, 5' complete, 3' complete
    codon = np.zeros(64)
    codon[[14, 0]] = 0.5  # ATG = 0*16 + 3*4 + 2, AAA = 0
    np.testing.assert_allclose(vec[_block("codon_")], codon)
    aa = np.zeros(N_AA_TOKENS)
    aa[[aa_token("M") - 1, aa_token("K") - 1]] = 0.5
    np.testing.assert_allclose(vec[_block("aa_")], aa)


def test_orf_coverage_and_partial_flags():
    vec = _features("CCATGAAACCCGG")  # ORF 3..11 of 13 nt, 3'-open, no upstream stop
    assert vec[1] == pytest.approx(9 / 13)
    assert vec[2:5].tolist() == [1.0, 0.0, 0.0]


def test_hexamer_block_by_hand():
    assert len(_block("hexamer_")) == 4096
    vec = _features("ATGAAAATGTAA")  # codons ATG AAA ATG: pairs ATG-AAA (14*64) and AAA-ATG (14)
    hexamer = np.zeros(4096)
    hexamer[[14 * 64 + 0, 0 * 64 + 14]] = 0.5
    np.testing.assert_allclose(vec[_block("hexamer_")], hexamer)


def test_features_without_orf():
    vec = _features("CCCCGGGG")
    assert not vec[:5].any()
    assert not vec[_block("codon_")].any() and not vec[_block("aa_")].any()
    hexamers = _block("hexamer_")
    assert len(hexamers) == 4096
    assert not vec[hexamers].any()


# ---------------------------------------------------------------------------- encode_sequences


def test_encode_shapes_and_dtypes():
    batch = encode_sequences(["ACGT", "ATGAAATAA", "GG"], nuc_len=50, prot_len=10)
    assert batch.nucleotides.shape == (3, 50) and batch.nucleotides.dtype == np.uint8
    assert batch.proteins.shape == (3, 10) and batch.proteins.dtype == np.uint8
    assert batch.features.shape == (3, N_FEATURES) and batch.features.dtype == np.float32
    assert batch.lengths.tolist() == [4, 9, 2] and batch.lengths.dtype == np.int64
    assert len(batch) == 3 and len(batch.orfs) == 3
    assert set(batch.model_inputs()) == {"nucleotides", "proteins", "features"}


def test_model_inputs_selects_rows_and_gives_int32_tokens():
    batch = encode_sequences(["ACGT", "ATGAAATAA", "GG"], nuc_len=50, prot_len=10)
    inputs = batch.model_inputs(np.array([2, 0]))
    assert inputs["nucleotides"].dtype == inputs["proteins"].dtype == np.int32
    assert inputs["features"].dtype == np.float32
    np.testing.assert_array_equal(inputs["nucleotides"], batch.nucleotides[[2, 0]])
    np.testing.assert_array_equal(inputs["proteins"], batch.proteins[[2, 0]])
    np.testing.assert_array_equal(inputs["features"], batch.features[[2, 0]])
    assert all(len(v) == 3 for v in batch.model_inputs().values())


def test_encode_pads_with_zero():
    batch = encode_sequences(["ACGU", "ATGAAATAA"], nuc_len=8, prot_len=5, version=1)
    assert batch.nucleotides[0].tolist() == [1, 2, 3, 4, 0, 0, 0, 0]
    assert batch.proteins[0].tolist() == [0] * 5
    assert batch.proteins[1].tolist() == [aa_token("M"), aa_token("K"), 0, 0, 0]
    # version 2 reads ACGU's first frame as a 5'-open ORF: ACG -> T
    batch = encode_sequences(["ACGU", "ATGAAATAA"], nuc_len=8, prot_len=5)
    assert batch.proteins[0].tolist() == [aa_token("T"), 0, 0, 0, 0]
    assert batch.orfs[0] == Orf(1, 3, False, False)


def test_encode_empty_sequence_is_all_padding():
    batch = encode_sequences([""], nuc_len=20, prot_len=5)
    assert not batch.nucleotides.any() and not batch.proteins.any() and not batch.features.any()
    assert batch.orfs == [NO_ORF] and batch.lengths.tolist() == [0]


def test_encode_empty_batch():
    batch = encode_sequences([], nuc_len=20, prot_len=5)
    assert batch.nucleotides.shape == (0, 20) and len(batch) == 0


def test_encode_200kb_sequence():
    seq = "".join(random.Random(5).choice("ACGT") for _ in range(200_000))
    batch = encode_sequences([seq], nuc_len=600, prot_len=100)
    tokens = nucleotide_tokens(seq)
    start = window_start(len(seq), batch.orfs[0], 600)
    assert batch.lengths.tolist() == [200_000]
    np.testing.assert_array_equal(batch.nucleotides[0], tokens[start : start + 600])
    assert batch.nucleotides[0].min() >= 1  # the window lies inside the sequence: no padding


def test_encode_window_is_centred_on_orf():
    orf_seq = "ATG" + "GCC" * 30 + "TAA"  # 96 nt
    seq = "C" * 500 + orf_seq + "C" * 500
    batch = encode_sequences([seq], nuc_len=200, prot_len=10, version=1)
    assert batch.orfs[0] == Orf(501, 596, False, True)
    start = round((500 + 596) / 2 - 100)
    assert batch.nucleotides[0].tolist() == nucleotide_tokens(seq[start : start + 200]).tolist()
    assert batch.proteins[0].tolist() == [aa_token("M")] + [aa_token("A")] * 9


def test_encode_protein_is_n_terminal_part():
    seq = "ATG" + "TGG" * 20 + "TAG"
    batch = encode_sequences([seq], nuc_len=100, prot_len=4)
    assert batch.proteins[0].tolist() == [aa_token("M")] + [aa_token("W")] * 3


# ---------------------------------------------------------------------------- 5'-open frames (version 2)


def open_orf_of(seq: str) -> Orf:
    """Version 2's search: a 5'-open frame wins whenever it is longer."""
    return longest_orf(nucleotide_tokens(seq), margin=1.0)


def test_fragment_without_atg_gives_a_five_prime_open_orf():
    seq = "TAAGCTAAGCAGCAGCAGCTAACC"  # no ATG
    # frame 1: TAA (a stop alone); frame 2: AAG CTA AGC AGC AGC AGC TAA; frame 3: AGC TAA
    assert orf_of(seq) == NO_ORF
    assert open_orf_of(seq) == Orf(2, 22, False, True)


def test_open_frame_running_off_both_ends():
    seq = "GG" + "CCA" * 5  # no stop, no ATG: frame 1 reads all 17 nt as 5 whole codons
    assert open_orf_of(seq) == Orf(1, 15, False, False)


def test_atg_orf_wins_ties_with_open_frames():
    seq = "TAAATGAAACCCGGGTGA"
    # frame 1: TAA | ATG AAA CCC GGG TGA (15 nt, stop upstream); frame 2: AAA TGA (6 nt);
    # frame 3: AAT GAA ACC CGG GTG, open at both ends (15 nt): a tie, the ATG ORF wins
    assert open_orf_of(seq) == orf_of(seq) == Orf(4, 18, True, True)


def test_atg_without_upstream_stop_reads_from_the_five_prime_end():
    seq = "CC" + "ATGAAATGA"  # frame 3 opens at position 3 = the ATG: same ORF
    assert open_orf_of(seq) == Orf(3, 11, False, True)
    seq = "CCC" + "ATGAAATGA"  # frame 1 is open from position 1 through the ATG
    assert open_orf_of(seq) == Orf(1, 12, False, True)
    assert orf_of(seq) == Orf(4, 12, False, True)


def test_stop_codon_alone_is_no_open_orf():
    assert open_orf_of("TAA") == NO_ORF  # frames 2 and 3 hold no whole codon
    assert open_orf_of("TAAC") == Orf(2, 4, False, False)  # frame 2: AAC
    assert open_orf_of("TGATAGTAA") == Orf(2, 7, False, False)  # frame 2: GAT AGT, frame 3: ATA GTA (tie)


def test_tie_between_open_frames_goes_to_the_first_frame():
    seq = "CCCCCCC"  # frames 1 and 2 both hold two whole codons (6 nt)
    assert open_orf_of(seq) == Orf(1, 6, False, False)


# ---------------------------------------------------------------------------- the margin (version 3)


def test_version_3_keeps_the_atg_orf_unless_the_open_frame_is_one_and_a_half_times_longer():
    # frame 1 is open from position 1 through the ATG at 4: 12 nt against the ATG ORF's 9
    seq = "CCC" + "ATGAAATGA"
    assert longest_orf(nucleotide_tokens(seq)) == orf_of(seq) == Orf(4, 12, False, True)
    # another frame with no stop, a little longer than the CDS, does not displace it: the
    # CDS is the ATG ORF at 13-33 (21 nt, TAA upstream in frame); frame 2 is open from
    # position 2 to the 3' end (30 nt, 1.43 times as long)
    seq = "TTGCTGTAACTT" + "ATGCTGCCCGCCAAAGGGTAG"
    assert longest_orf(nucleotide_tokens(seq)) == orf_of(seq) == Orf(13, 33, True, True)
    assert open_orf_of(seq) == Orf(2, 31, False, False)  # version 2 took the other frame


def test_version_3_gives_a_fragment_its_open_frame():
    # a piece of a CDS: its frame runs through (30 codons, no stop), the only ATG is late
    seq = "GCC" * 25 + "ATGGCCGCCGCCGCC"
    orf = longest_orf(nucleotide_tokens(seq))
    assert orf == Orf(1, 90, False, False) and orf.length >= OPEN_FRAME_MARGIN * orf_of(seq).length


def test_margin_boundary_is_inclusive():
    # open frame exactly 1.5 times the ATG ORF: 18 nt against 12 nt
    seq = "GCCGCC" + "ATGAAACCCTAA"
    assert orf_of(seq).length == 12
    assert longest_orf(nucleotide_tokens(seq), margin=1.5) == Orf(1, 18, False, True)
    assert longest_orf(nucleotide_tokens(seq), margin=1.51) == Orf(7, 18, False, True)


def test_each_encoding_version_uses_its_own_search():
    seq = "CCC" + "ATGAAATGA"
    starts = [encode_sequences([seq], nuc_len=20, prot_len=5, version=v).orfs[0].start for v in (1, 2, 3)]
    assert starts == [4, 1, 4]


def test_translate_five_prime_open_orf_has_no_methionine():
    tokens = nucleotide_tokens("GCTGCTTGGTAG")
    codes = codon_codes(tokens)
    assert translate_orf(codes, longest_orf(tokens, codes)) == "AAW"


def test_unknown_encoding_version_is_refused():
    with pytest.raises(ValueError, match="encoding version"):
        encode_sequences(["ACGT"], nuc_len=10, prot_len=5, version=4)
