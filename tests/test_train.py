"""Training: split, class weights, threshold, reproducibility and resume."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import EXAMPLES, run_cli, tiny_set_args

from rnaigloo.evaluate.metrics import best_mcc_threshold
from rnaigloo.io.labelled import gene_key
from rnaigloo.training.data import LENGTH_EDGES, class_weights, sample_weights, split_validation

TRAIN_ARGS = [
    "--coding", str(EXAMPLES / "train_coding.fa.gz"),
    "--noncoding", str(EXAMPLES / "train_noncoding.fa.gz"),
    "--epochs", "3", "--patience", "5", "--seed", "11", "-q",
]  # fmt: skip


def test_gene_key_reads_the_usual_headers():
    assert gene_key("NM_001507 gene_id=2862 gene=MLNR", "NM_001507") == "gene_id=2862"
    assert gene_key("ENST1.1 ncrna gene:ENSG00000262477.1 gene_biotype:lncRNA", "ENST1.1") == "gene:ENSG00000262477.1"
    assert gene_key("tx1 gene=ABC", "tx1") == "gene=ABC"
    assert gene_key("tx2 some description", "tx2") == "id:tx2"


def test_split_is_stratified_grouped_and_seeded():
    labels = np.array([1] * 60 + [0] * 40)
    groups = [f"g{i // 2}" for i in range(100)]  # pairs of isoforms
    tr, va = split_validation(labels, groups, 0.2, seed=5)
    assert set(tr).isdisjoint(va) and len(tr) + len(va) == 100
    assert {groups[i] for i in tr}.isdisjoint({groups[i] for i in va})
    assert 0.45 < labels[va].mean() < 0.75
    tr2, va2 = split_validation(labels, groups, 0.2, seed=5)
    np.testing.assert_array_equal(va, va2)
    _, va3 = split_validation(labels, groups, 0.2, seed=6)
    assert not np.array_equal(va, va3)


def test_class_weights_balance_the_classes():
    w = class_weights(np.array([1] * 30 + [0] * 10))
    assert w[0] * 10 == pytest.approx(w[1] * 30)


def _lengths_and_labels():
    # mRNAs mostly long, lncRNAs mostly short; one bin (>= 5 kb) holds mRNAs only
    lengths = np.array([300] * 5 + [800] * 20 + [2500] * 30 + [6000] * 10 + [300] * 40 + [800] * 25 + [2500] * 5)
    labels = np.array([1] * 65 + [0] * 70)
    return lengths, labels


def test_sample_weights_without_length_balance_are_the_class_weights():
    lengths, labels = _lengths_and_labels()
    w, summary = sample_weights(labels, lengths, 0.0)
    by_class = class_weights(labels)
    np.testing.assert_allclose(w, np.where(labels == 1, by_class[1], by_class[0]), rtol=1e-6)
    assert summary == {"class_weights": by_class, "length_balance": 0.0}


def test_length_balance_evens_out_the_classes_within_each_length_bin():
    lengths, labels = _lengths_and_labels()
    w, summary = sample_weights(labels, lengths, 1.0)
    assert w.mean() == pytest.approx(1.0)
    bins = np.digitize(lengths, LENGTH_EDGES)
    per_transcript = []
    for b in (0, 1, 3):  # < 500, 500-1,000, 2,000-3,000 nt: both classes present
        in_bin = bins == b
        assert w[in_bin & (labels == 1)].sum() == pytest.approx(w[in_bin & (labels == 0)].sum())
        per_transcript.append(w[in_bin].mean())
    assert per_transcript == pytest.approx([per_transcript[0]] * 3)  # each bin keeps its share of the weight
    # the short mRNAs now weigh more than the short lncRNAs, and more than without balance
    assert w[(bins == 0) & (labels == 1)][0] > w[(bins == 0) & (labels == 0)][0]
    assert w[(bins == 0) & (labels == 1)][0] > sample_weights(labels, lengths, 0.0)[0][0]
    # a bin with one class keeps the class weights' ratio to the rest of the run
    only = bins == 5
    short_mrna = w[(bins == 0) & (labels == 1)][0]  # 45 transcripts in the bin, 5 of them mRNAs: 45 / 10
    assert w[only][0] / short_mrna == pytest.approx(class_weights(labels)[1] / 4.5)
    rows = {(r["from"], r["to"]): r for r in summary["length_bins"]}
    assert rows[(0, 500)]["coding"] == 5 and rows[(0, 500)]["noncoding"] == 40
    assert rows[(5000, None)]["noncoding"] == 0 and rows[(5000, None)]["noncoding_weight"] is None
    assert rows[(1000, 2000)]["coding_weight"] is None and rows[(1000, 2000)]["noncoding_weight"] is None


def test_half_length_balance_lies_between():
    lengths, labels = _lengths_and_labels()
    none, full, half = (sample_weights(labels, lengths, x)[0] for x in (0.0, 1.0, 0.5))
    short_mrna = (lengths == 300) & (labels == 1)
    assert none[short_mrna][0] < half[short_mrna][0] < full[short_mrna][0]


def test_best_threshold_separates_separable_scores():
    y = np.array([0, 0, 0, 1, 1, 1])
    s = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.9])
    t, mcc = best_mcc_threshold(y, s)
    assert mcc == pytest.approx(1.0)
    assert 0.3 < t < 0.6


def test_best_threshold_picks_maximum_mcc_by_brute_force():
    from sklearn.metrics import matthews_corrcoef

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    s = np.clip(y * 0.3 + rng.normal(0.35, 0.2, 300), 0, 1)
    t, mcc = best_mcc_threshold(y, s)
    brute = max(matthews_corrcoef(y, (s >= c).astype(int)) for c in np.unique(s))
    assert mcc == pytest.approx(brute)
    assert matthews_corrcoef(y, (s >= t).astype(int)) == pytest.approx(brute)


def _scores(model) -> list[str]:
    res = run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-m", model, "-q")
    assert res.code == 0, res.stderr
    return [line.split("\t")[1] for line in res.stdout.splitlines()[1:]]


def test_same_seed_same_model(tmp_path):
    for name in ("a", "b"):
        res = run_cli("train", *TRAIN_ARGS, "-o", tmp_path / f"{name}.keras", *tiny_set_args())
        assert res.code == 0, res.stderr
    card_a = json.loads((tmp_path / "a.card.json").read_text())
    card_b = json.loads((tmp_path / "b.card.json").read_text())
    assert card_a["threshold"] == card_b["threshold"]
    assert card_a["validation_metrics"] == card_b["validation_metrics"]
    assert _scores(tmp_path / "a.keras") == _scores(tmp_path / "b.keras")


def test_resume_after_interruption_ends_like_an_uninterrupted_run(tmp_path, monkeypatch):
    import rnaigloo.training.callbacks as callbacks

    res = run_cli("train", *TRAIN_ARGS, "-o", tmp_path / "full.keras", *tiny_set_args())
    assert res.code == 0, res.stderr

    original = callbacks.Checkpointer.on_epoch_end

    def interrupted_after_first_epoch(self, epoch, logs=None):
        original(self, epoch, logs)
        if epoch == 0:
            raise KeyboardInterrupt

    monkeypatch.setattr(callbacks.Checkpointer, "on_epoch_end", interrupted_after_first_epoch)
    res = run_cli("train", *TRAIN_ARGS, "-o", tmp_path / "cut.keras", *tiny_set_args())
    assert res.code == 130
    assert not (tmp_path / "cut.keras").exists()
    assert json.loads((tmp_path / "cut.checkpoint" / "epoch-0001" / "state.json").read_text())["state"]["epoch"] == 1
    monkeypatch.setattr(callbacks.Checkpointer, "on_epoch_end", original)

    res = run_cli("train", *TRAIN_ARGS, "-o", tmp_path / "cut.keras", "--resume", *tiny_set_args())
    assert res.code == 0, res.stderr
    full = json.loads((tmp_path / "full.report.json").read_text())
    cut = json.loads((tmp_path / "cut.report.json").read_text())
    assert [h["epoch"] for h in cut["history"]] == [1, 2, 3]
    for a, b in zip(full["history"], cut["history"]):
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-5)
    np.testing.assert_allclose(
        [float(s) for s in _scores(tmp_path / "full.keras")], [float(s) for s in _scores(tmp_path / "cut.keras")], atol=1e-5
    )


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("full") / "full.keras"
    res = run_cli("train", *TRAIN_ARGS, "-o", out, *tiny_set_args())
    assert res.code == 0, res.stderr
    return out


@pytest.mark.parametrize("kill", ["before_state_file", "after_rename_before_cleanup"])
def test_a_kill_between_checkpoint_writes_never_resumes_a_mix_of_epochs(tmp_path, monkeypatch, uninterrupted, kill):
    """Epoch 2's checkpoint is cut short (as a kill would) between its file writes; resume
    takes the last complete unit whole and ends where the uninterrupted run ends."""
    import shutil

    import rnaigloo.training.callbacks as callbacks

    out = tmp_path / "cut.keras"
    ckpt = tmp_path / "cut.checkpoint"
    if kill == "before_state_file":  # the new weights are written, its state.json is not
        original = callbacks.write_state

        def write_state(path, record):
            if record["epoch"] == 2:
                raise KeyboardInterrupt
            original(path, record)

        monkeypatch.setattr(callbacks, "write_state", write_state)
    else:  # the new unit is in place, the old one not yet removed
        original_rmtree = callbacks.shutil.rmtree

        def rmtree(path, *args, **kwargs):
            if Path(path).name == "epoch-0001" and (ckpt / "epoch-0002").is_dir():
                raise KeyboardInterrupt
            original_rmtree(path, *args, **kwargs)

        monkeypatch.setattr(callbacks.shutil, "rmtree", rmtree)
    assert run_cli("train", *TRAIN_ARGS, "-o", out, *tiny_set_args()).code == 130
    monkeypatch.undo()
    resumed_from = 1 if kill == "before_state_file" else 2
    assert (ckpt / f"epoch-{resumed_from:04d}" / "state.json").is_file()
    if kill == "before_state_file":
        partial = ckpt / ".epoch-0002.partial"
        assert (partial / "last.keras").is_file() and not (partial / "state.json").exists()
        # the mix the old layout allowed: epoch 1's state with epoch 2's model is refused
        unit = ckpt / "epoch-0001"
        shutil.copytree(unit, tmp_path / "saved")
        shutil.copyfile(partial / "last.keras", unit / "last.keras")
        res = run_cli("train", *TRAIN_ARGS, "-o", out, "--resume", *tiny_set_args())
        assert res.code == 1 and "last.keras is not the file its state.json records (epoch 1)" in res.stderr
        shutil.rmtree(unit)
        shutil.copytree(tmp_path / "saved", unit)

    res = run_cli("train", *TRAIN_ARGS[:-1], "-o", out, "--resume", *tiny_set_args())
    assert res.code == 0, res.stderr
    assert f"after epoch {resumed_from}" in res.stderr
    assert not ckpt.exists()
    full = json.loads(uninterrupted.with_name("full.report.json").read_text())
    cut = json.loads((tmp_path / "cut.report.json").read_text())
    assert [h["epoch"] for h in cut["history"]] == [1, 2, 3]
    for a, b in zip(full["history"], cut["history"]):
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-5)
    np.testing.assert_allclose(
        [float(s) for s in _scores(uninterrupted)], [float(s) for s in _scores(out)], atol=1e-5
    )


def test_resume_refuses_a_checkpoint_of_other_settings(tmp_path, monkeypatch):
    import rnaigloo.training.callbacks as callbacks

    original = callbacks.Checkpointer.on_epoch_end

    def stop(self, epoch, logs=None):
        original(self, epoch, logs)
        raise KeyboardInterrupt

    monkeypatch.setattr(callbacks.Checkpointer, "on_epoch_end", stop)
    assert run_cli("train", *TRAIN_ARGS, "-o", tmp_path / "m.keras", *tiny_set_args()).code == 130
    monkeypatch.setattr(callbacks.Checkpointer, "on_epoch_end", original)
    res = run_cli("train", *TRAIN_ARGS, "-o", tmp_path / "m.keras", "--resume", "--batch-size", "17", *tiny_set_args())
    assert res.code == 1
    assert "cannot resume" in res.stderr and "Traceback" not in res.stderr


def test_unknown_model_setting_is_an_input_error(tmp_path):
    res = run_cli("train", *TRAIN_ARGS, "-o", tmp_path / "m.keras", "--set", "nuc_patchez=3")
    assert res.code == 1
    assert "unknown model setting 'nuc_patchez'" in res.stderr


def test_crop_flanks_keeps_the_longest_orf_whole():
    from rnaigloo.encoding.reference import longest_orf
    from rnaigloo.encoding.translation import nucleotide_tokens
    from rnaigloo.training.augment import crop_flanks

    seq = "GGCTTAGCCA" * 5 + "ATGAAACCCGGGTTTAAAGGGCCCTAG" + "CATTGACCAG" * 8
    orf = longest_orf(nucleotide_tokens(seq), five_prime_open=False)
    rng = np.random.default_rng(0)
    lengths = set()
    for _ in range(50):
        cropped = crop_flanks(seq, orf, rng)
        assert seq[orf.start - 1 : orf.end] in cropped and cropped in seq
        # the ATG ORF stays the longest ATG ORF (a crop may open a longer 5'-open frame)
        assert longest_orf(nucleotide_tokens(cropped), five_prime_open=False).length == orf.length
        lengths.add(len(cropped))
    assert len(lengths) > 10  # the flanks really vary
    no_orf = "CCCTTTGGG" * 10
    assert crop_flanks(no_orf, longest_orf(nucleotide_tokens(no_orf)), rng) in no_orf


def test_augmented_training_is_reproducible_and_really_augments(tmp_path):
    data = ["--coding", str(EXAMPLES / "train_coding.fa.gz"), "--noncoding", str(EXAMPLES / "train_noncoding.fa.gz")]
    common = [*data, "--epochs", "2", "--seed", "4", "-q", *tiny_set_args(), "--set", "fragments=0"]
    for name, extra in (("a", ["--set", "augment=0.5"]), ("b", ["--set", "augment=0.5"]), ("plain", ["--set", "augment=0"])):
        res = run_cli("train", *common, *extra, "-o", tmp_path / f"{name}.keras")
        assert res.code == 0, res.stderr
    history = {n: json.loads((tmp_path / f"{n}.report.json").read_text())["history"] for n in ("a", "b", "plain")}
    assert [h["loss"] for h in history["a"]] == [h["loss"] for h in history["b"]]
    assert [h["loss"] for h in history["a"]] != [h["loss"] for h in history["plain"]]


def test_length_balance_changes_training_and_is_on_the_card(tmp_path):
    data = ["--coding", str(EXAMPLES / "train_coding.fa.gz"), "--noncoding", str(EXAMPLES / "train_noncoding.fa.gz")]
    common = [*data, "--epochs", "1", "--seed", "4", "-q", *tiny_set_args()]
    for name, balance in (("plain", "0"), ("balanced", "1")):
        res = run_cli("train", *common, "--set", f"length_balance={balance}", "-o", tmp_path / f"{name}.keras")
        assert res.code == 0, res.stderr
    cards = {n: json.loads((tmp_path / f"{n}.card.json").read_text()) for n in ("plain", "balanced")}
    history = {n: json.loads((tmp_path / f"{n}.report.json").read_text())["history"] for n in cards}
    assert history["plain"][0]["loss"] != history["balanced"][0]["loss"]
    assert cards["balanced"]["config"]["length_balance"] == 1.0
    assert cards["balanced"]["training"]["length_balance"] == 1.0
    bins = cards["balanced"]["training"]["length_bins"]
    assert [b["from"] for b in bins] == [0, *LENGTH_EDGES]
    train = cards["balanced"]["training_data"]["train"]
    assert sum(b["coding"] for b in bins) == train["coding"] and sum(b["noncoding"] for b in bins) == train["noncoding"]
    assert "length_bins" not in cards["plain"]["training"]
    assert set(cards["plain"]["training"]["class_weights"]) == {"0", "1"}


def test_stdin_is_counted_under_its_name_as_given(tmp_path, monkeypatch):
    import io
    import sys

    from rnaigloo.io.labelled import read_labelled

    coding = tmp_path / "c.fa"
    coding.write_text(">c1\nATGAAATAA\n")
    noncoding = tmp_path / "n.fa"
    noncoding.write_text(">n1\nCCCCCC\n")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b">c2\nATGCCCTAA\n")))
    data = read_labelled([str(coding), "-"], [str(noncoding)])
    assert data.files == {str(coding): 1, "-": 1, str(noncoding): 1}
