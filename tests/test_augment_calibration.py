"""Training pieces (fragments, truncations), the Brier score and temperature calibration."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import EXAMPLES, TSV_ENGINE_TOLERANCE, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from rnaigloo.encoding.reference import longest_orf
from rnaigloo.encoding.tables import NO_ORF
from rnaigloo.encoding.translation import nucleotide_tokens
from rnaigloo.evaluate.metrics import brier_score, compute_metrics, expected_calibration_error, reliability
from rnaigloo.network.calibration import apply_temperature, fit_temperature, logit
from rnaigloo.training.augment import (
    FRAGMENT_MAX,
    FRAGMENT_MIN,
    MIN_CODING_OVERLAP,
    TRUNCATE_KEEP,
    random_piece,
)

# ---------------------------------------------------------------------------- pieces

bases = st.text(alphabet="ACGT", min_size=0, max_size=4000)


def _kind(seq: str, piece: str) -> str:
    if piece == seq:
        return "whole"
    if seq.endswith(piece) and len(piece) >= TRUNCATE_KEEP and len(piece) > FRAGMENT_MAX:
        return "5prime"
    return "other"


@settings(max_examples=200, deadline=None)
@given(bases, st.booleans(), st.integers(0, 2**32 - 1))
def test_piece_is_a_seeded_substring_that_keeps_coding_sequence(seq, coding, seed):
    orf = longest_orf(nucleotide_tokens(seq))
    piece = random_piece(seq, orf, coding, np.random.default_rng(seed))
    assert piece == random_piece(seq, orf, coding, np.random.default_rng(seed))  # seeded
    assert piece in seq
    if len(seq) < FRAGMENT_MIN:
        assert piece == seq
        return
    assert len(piece) >= min(FRAGMENT_MIN, TRUNCATE_KEEP)
    is_window = not (seq.startswith(piece) or seq.endswith(piece))
    if is_window:
        assert FRAGMENT_MIN <= len(piece) <= FRAGMENT_MAX
    if coding and orf.found:
        # where the piece lies: a truncation is anchored at one end; a window anywhere it fits
        starts = [i for i in range(len(seq) - len(piece) + 1) if seq.startswith(piece, i)]
        need = min(orf.length, MIN_CODING_OVERLAP)
        overlaps = [min(s + len(piece), orf.end) - max(s, orf.start - 1) for s in starts]
        assert max(overlaps) >= need  # the label stays true: coding sequence is kept


def test_pieces_cover_windows_and_both_truncations():
    rng = np.random.default_rng(3)
    seq = "".join(rng.choice(list("ACGT"), 5000))
    orf = longest_orf(nucleotide_tokens(seq))
    pieces = [random_piece(seq, orf, False, rng) for _ in range(200)]
    assert any(seq.startswith(p) and not seq.endswith(p) for p in pieces)  # 3' truncations
    assert any(seq.endswith(p) and not seq.startswith(p) for p in pieces)  # 5' truncations
    windows = [p for p in pieces if not seq.startswith(p) and not seq.endswith(p)]
    assert windows and all(FRAGMENT_MIN <= len(p) <= FRAGMENT_MAX for p in windows)
    assert len({len(p) for p in pieces}) > 50


def test_short_transcripts_and_no_orf_are_left_or_cut_freely():
    rng = np.random.default_rng(0)
    assert random_piece("ACGT" * 50, NO_ORF, True, rng) == "ACGT" * 50  # 200 nt < FRAGMENT_MIN
    seq = "CCCTTTGGG" * 200
    assert random_piece(seq, NO_ORF, True, rng) in seq


def test_fragment_training_is_reproducible_and_changes_training(tmp_path):
    from conftest import tiny_set_args

    data = ["--coding", str(EXAMPLES / "train_coding.fa.gz"), "--noncoding", str(EXAMPLES / "train_noncoding.fa.gz")]
    common = [*data, "--epochs", "1", "--seed", "4", "-q", *tiny_set_args(), "--set", "augment=0"]
    for name, share in (("a", "0.5"), ("b", "0.5"), ("none", "0")):
        res = run_cli("train", *common, "--set", f"fragments={share}", "-o", tmp_path / f"{name}.keras")
        assert res.code == 0, res.stderr
    loss = {n: json.loads((tmp_path / f"{n}.report.json").read_text())["history"][0]["loss"] for n in ("a", "b", "none")}
    assert loss["a"] == loss["b"] != loss["none"]


def _pieced_batch(**options):
    """One training batch of every row with fragments=1: the lengths of the rows as seen, and their weights."""
    from rnaigloo.architecture import NUCLEOTIDES
    from rnaigloo.encoding.encoder import encode_sequences
    from rnaigloo.training.pipeline import make_dataset

    rng = np.random.default_rng(3)
    seqs = ["".join(rng.choice(list("ACGT"), n)) for n in (400, 900, 2000, 3000)]
    enc = encode_sequences(seqs, 3000, 100)
    y = np.array([0, 1, 0, 1], dtype=np.float32)
    weights = np.array([1.0, 2.0, 1.0, 2.0], dtype=np.float32)
    ds = make_dataset(enc, y, np.arange(4), weights, 4, 5, 1, 0, sequences=seqs, fragments=1.0, **options)
    inputs, labels, seen_weights = next(iter(ds))
    lengths = np.count_nonzero(np.asarray(inputs[NUCLEOTIDES]), axis=1)
    return lengths, np.asarray(seen_weights)


def test_fragments_from_keeps_shorter_transcripts_whole_and_fragment_weight_scales_pieces():
    lengths, weights = _pieced_batch()
    assert sorted(weights) == [1.0, 1.0, 2.0, 2.0]  # the default: pieces weigh what their row weighs
    assert not {400, 900, 2000, 3000} & set(lengths[lengths > 1500])  # the long ones were cut
    lengths, weights = _pieced_batch(fragments_from=1000, fragment_weight=0.25)
    whole = np.isin(lengths, (400, 900))
    assert whole.sum() == 2  # under 1,000 nt: left whole, weight unchanged
    assert sorted(weights[whole]) == [1.0, 2.0]
    assert sorted(weights[~whole]) == [0.25, 0.5]  # pieces: a quarter of their row's weight


def test_shares_above_one_are_refused(tmp_path):
    res = run_cli(
        "train", "--coding", EXAMPLES / "train_coding.fa.gz", "--noncoding", EXAMPLES / "train_noncoding.fa.gz",
        "-o", tmp_path / "x.keras", "--set", "augment=0.6", "--set", "fragments=0.6", "-q",
    )  # fmt: skip
    assert res.code != 0 and "at most 1" in res.stderr
    assert not (tmp_path / "x.keras").exists()


# ---------------------------------------------------------------------------- Brier, reliability


def test_brier_by_hand():
    assert brier_score(np.array([1, 0, 1, 0]), np.array([1.0, 0.0, 0.5, 0.25])) == pytest.approx((0.25 + 0.0625) / 4)
    assert brier_score(np.array([]), np.array([])) is None
    m = compute_metrics(np.array([1, 0]), np.array([0.9, 0.2]), 0.5)
    assert m["brier"] == pytest.approx((0.01 + 0.04) / 2)


def test_metrics_with_nothing_to_count_are_undefined_not_zero():
    lnc_only = compute_metrics(np.array([0, 0, 0, 0]), np.array([0.1, 0.2, 0.7, 0.3]), 0.5)
    assert lnc_only["specificity"] == 0.75 and lnc_only["accuracy"] == 0.75
    assert all(lnc_only[k] is None for k in ("sensitivity", "f1", "mcc", "auroc", "auprc"))
    assert lnc_only["precision"] == 0.0  # one lncRNA was called coding, wrongly
    all_noncoding_calls = compute_metrics(np.array([1, 0]), np.array([0.1, 0.2]), 0.5)
    assert all_noncoding_calls["precision"] is None and all_noncoding_calls["sensitivity"] == 0.0
    assert all_noncoding_calls["mcc"] == 0.0


def test_reliability_bins_and_calibration_error_by_hand():
    y = np.array([0, 0, 1, 1, 1])
    s = np.array([0.05, 0.15, 0.15, 0.95, 1.0])
    rows = reliability(y, s, bins=10)
    assert [(r["lo"], r["n"]) for r in rows] == [(0.0, 1), (0.1, 2), (0.9, 2)]
    assert rows[1]["coding_share"] == 0.5 and rows[2]["mean_score"] == pytest.approx(0.975)
    # |0.05-0| * 1 + |0.15-0.5| * 2 + |0.975-1| * 2, over 5
    assert expected_calibration_error(y, s, bins=10) == pytest.approx((0.05 + 0.7 + 0.05) / 5)


# ---------------------------------------------------------------------------- temperature


def test_temperature_one_changes_nothing_and_others_keep_the_order():
    p = np.array([0.0, 1e-9, 0.2, 0.5, 0.8, 1.0], dtype=np.float32)
    assert apply_temperature(p, 1.0) is p
    hot = apply_temperature(p, 2.0)
    assert np.all(np.diff(hot) >= 0) and hot[3] == pytest.approx(0.5)
    assert hot[4] == pytest.approx(1 / (1 + np.exp(-np.log(4) / 2)), rel=1e-6)  # logit(0.8) = log 4
    assert 0.5 < hot[4] < 0.8 and 0 < hot[0] < hot[2] < 0.5


def test_fitted_temperature_recovers_the_true_one():
    rng = np.random.default_rng(7)
    z = rng.normal(0, 4, 20000)
    y = rng.random(z.size) < 1 / (1 + np.exp(-z / 2.5))  # true probabilities: logit / 2.5
    overconfident = 1 / (1 + np.exp(-z))
    t = fit_temperature(y, overconfident)
    assert t == pytest.approx(2.5, rel=0.05)
    assert brier_score(y, apply_temperature(overconfident, t)) < brier_score(y, overconfident)
    assert fit_temperature(np.ones(5), overconfident[:5]) == 1.0  # one class: nothing to fit
    np.testing.assert_allclose(logit(np.array([0.5, 0.8])), [0.0, np.log(4)])


@pytest.fixture
def warm_model(tiny_model, tmp_path):
    """A copy of the tiny model whose card says temperature 2."""
    model = tmp_path / "warm.keras"
    shutil.copy(tiny_model, model)
    card = json.loads(tiny_model.with_name("tiny.card.json").read_text())
    card["calibration"] = {**card.get("calibration", {}), "temperature": 2.0}
    card["model_file"] = model.name
    (tmp_path / "warm.card.json").write_text(json.dumps(card))
    return model


def _scores(*args) -> np.ndarray:
    res = run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-q", *args)
    assert res.code == 0, res.stderr
    return np.array([float(line.split("\t")[1]) for line in res.stdout.splitlines()[1:]])


def test_both_engines_apply_the_card_temperature(tiny_model, warm_model):
    card = json.loads(tiny_model.with_name("tiny.card.json").read_text())
    base = apply_temperature(_scores("-m", tiny_model), 1.0 / card["calibration"]["temperature"])  # uncalibrated
    numpy_scores = _scores("-m", warm_model)
    tf_scores = _scores("-m", warm_model, "--engine", "tensorflow")
    np.testing.assert_allclose(numpy_scores, tf_scores, atol=TSV_ENGINE_TOLERANCE)
    np.testing.assert_allclose(numpy_scores, apply_temperature(base, 2.0), atol=1e-4)


def test_a_bad_temperature_is_refused(warm_model):
    path = warm_model.with_name("warm.card.json")
    card = json.loads(path.read_text())
    card["calibration"]["temperature"] = -1
    path.write_text(json.dumps(card))
    res = run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-m", warm_model, "-q")
    assert res.code != 0 and "temperature must be a positive number" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_training_card_carries_calibration(tiny_model):
    card = json.loads(tiny_model.with_name("tiny.card.json").read_text())
    cal = card["calibration"]
    assert cal["temperature"] > 0 and cal["brier_after"] <= cal["brier_before"] + 1e-9
    assert cal["threshold"] == card["threshold"] and card["validation_metrics"]["brier"] == pytest.approx(cal["brier_after"])
    assert sum(r["n"] for r in cal["reliability"]) == card["validation_metrics"]["n"]
