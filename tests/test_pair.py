"""Model pairs: the rule that routes each transcript, the scores it gives, and bad pairs.

The pairs here are made of copies of two bundled networks (``human`` as the complete
network, ``multispecies`` as the partial one), so nothing is trained.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import EXAMPLES, run_cli
from test_cli_errors import assert_one_error_line

from rnaigloo.classify.routing import shifted
from rnaigloo.encoding.encoder import encode_sequences, incomplete_orfs
from rnaigloo.network.pair import PAIR_THRESHOLD, ShortShift, read_pair, write_pair
from rnaigloo.network.paths import card_path, resolve_model

TRANSCRIPTS = EXAMPLES / "transcripts.fa.gz"


def _table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(text.splitlines(), delimiter="\t"))


@pytest.fixture()
def pair(tmp_path) -> Path:
    for name in ("human", "multispecies"):
        src = resolve_model(name)
        shutil.copyfile(src, tmp_path / src.name)
        shutil.copyfile(card_path(src), card_path(tmp_path / src.name))
    return write_pair(tmp_path / "test.pair.json", tmp_path / "human.keras", tmp_path / "multispecies.keras").path


# ---------------------------------------------------------------------------- the rule


@pytest.mark.parametrize(
    "seq, incomplete",
    [
        ("", False),  # no ORF
        ("AC", False),  # no ORF: shorter than a codon
        ("ACGTTT", True),  # a frame open at both ends: what a piece of a CDS looks like
        ("CCATGAAATAGCC", False),  # ATG ... stop
        ("ATGAAATAG", False),  # ATG at the 5' end, no stop upstream: still complete
        ("auGaaauag", False),  # RNA, lower case
        ("ATGAAAAAA", True),  # no stop codon
        ("GCTGCTGCTGCTGCTGCTGCT", True),  # a frame open to the 5' end, no start, no stop
        ("GCTGCTGCTGCTGCTGCTGCTTAAGG", True),  # a frame open to the 5' end with a stop, no start
    ],
)
def test_rule_reads_the_longest_orf(seq, incomplete):
    assert incomplete_orfs([seq], 3).tolist() == [incomplete]


def test_rule_agrees_with_the_orf_the_encoder_reports():
    """Row by row over random transcripts: the flag is 'no ATG at the ORF's start, or no stop'."""
    rng = np.random.default_rng(7)
    seqs = ["".join(rng.choice(list("ACGT"), size=int(n))) for n in rng.integers(0, 700, size=300)]
    flags = incomplete_orfs(seqs, 3)
    for seq, orf, flag in zip(seqs, encode_sequences(seqs, 60, 20, 3).orfs, flags):
        want = orf.found and (seq[orf.start - 1 : orf.start + 2] != "ATG" or not orf.three_prime_complete)
        assert flag == want, (seq, orf)
    assert 0 < flags.sum() < len(seqs)


def test_shift_keeps_order_and_puts_each_threshold_on_the_pairs():
    scores = np.array([0.0, 1e-9, 0.2, 0.4545, 0.45450001, 0.7, 1.0])
    out = shifted(scores, 0.4545)
    assert np.all(np.diff(out) >= 0)
    assert ((out >= PAIR_THRESHOLD) == (scores >= 0.4545)).all()
    assert out[3] == pytest.approx(PAIR_THRESHOLD) and out[0] == 0.0 and out[-1] == 1.0


@pytest.mark.parametrize("own", [0.0, 1.0])
def test_shift_with_a_threshold_of_zero_or_one_keeps_the_networks_calls(own):
    scores = np.array([0.0, 0.3, 1.0])
    out = shifted(scores, own)
    assert not np.isnan(out).any()
    assert ((out >= PAIR_THRESHOLD) == (scores >= own)).all()


def test_shift_with_one_threshold_a_row_calls_each_row_at_its_own():
    scores = np.array([0.30, 0.30, 0.60, 0.60])
    own = np.array([0.25, 0.35, 0.55, 0.65])
    out = shifted(scores, own)
    assert ((out >= PAIR_THRESHOLD) == (scores >= own)).all()
    assert out.tolist() == pytest.approx([shifted(np.array([s]), t)[0] for s, t in zip(scores, own)])


# ---------------------------------------------------------------------------- classify with a pair


def test_pair_scores_each_transcript_by_the_network_its_orf_chooses(pair):
    spec = read_pair(pair)
    res = run_cli("classify", TRANSCRIPTS, "-m", pair, "-q")
    assert res.code == 0, res.stderr
    got = _table(res.stdout)
    alone = {role: _table(run_cli("classify", TRANSCRIPTS, "-m", spec.members[role], "-q").stdout) for role in spec.members}
    thresholds = {role: json.loads(card_path(spec.members[role]).read_text())["threshold"] for role in spec.members}
    import gzip

    from Bio.SeqIO.FastaIO import SimpleFastaParser

    with gzip.open(TRANSCRIPTS, "rt") as fh:
        seqs = [s for _, s in SimpleFastaParser(fh)]
    routes = incomplete_orfs(seqs, spec.rule_encoding)
    assert 0 < routes.sum() < len(seqs), "the example data should use both networks"
    for i, row in enumerate(got):
        role = "partial" if routes[i] else "complete"
        own = alone[role][i]
        assert row["classification"] == own["classification"], (i, role)
        want = shifted(np.array([float(own["coding_score"])]), thresholds[role])[0]
        assert float(row["coding_score"]) == pytest.approx(want, abs=2e-5), (i, role)
        for column in ("orf_start", "orf_end", "orf_5prime", "orf_3prime"):
            assert row[column] == own[column], (i, column)


def _example_sequences() -> list[str]:
    import gzip

    from Bio.SeqIO.FastaIO import SimpleFastaParser

    with gzip.open(TRANSCRIPTS, "rt") as fh:
        return [s for _, s in SimpleFastaParser(fh)]


def test_short_shift_lowers_the_complete_networks_threshold_on_short_transcripts_only(tmp_path, pair):
    """A pair with ``short``: the complete network's short rows are called at its threshold
    lowered by log_odds; every other row is scored as without it."""
    seqs = _example_sequences()
    routes = incomplete_orfs(seqs, 3)
    lengths = np.array([len(s) for s in seqs])
    below = int(np.median(lengths[~routes])) + 1
    shift = ShortShift(below=below, log_odds=4.0)
    plain = _table(run_cli("classify", TRANSCRIPTS, "-m", pair, "-q").stdout)
    spec = write_pair(tmp_path / "short.pair.json", tmp_path / "human.keras", tmp_path / "multispecies.keras", short=shift)
    assert spec.short == shift and json.loads(spec.path.read_text())["format_version"] == 2
    res = run_cli("classify", TRANSCRIPTS, "-m", spec.path, "-q")
    assert res.code == 0, res.stderr
    got = _table(res.stdout)
    alone = _table(run_cli("classify", TRANSCRIPTS, "-m", spec.members["complete"], "-q").stdout)
    own = json.loads(card_path(spec.members["complete"]).read_text())["threshold"]
    lowered = 1 / (1 + np.exp(-(np.log(own / (1 - own)) - shift.log_odds)))
    affected = ~routes & (lengths < below)
    assert affected.any() and (~affected).any()
    for i, row in enumerate(got):
        if not affected[i]:
            assert row == plain[i], i
            continue
        score = float(alone[i]["coding_score"])
        assert row["classification"] == ("coding" if score >= lowered else "noncoding"), i
        # the table's scores are rounded; the shift multiplies the odds by e^4, and the rounding with them
        assert float(row["coding_score"]) == pytest.approx(shifted(np.array([score]), lowered)[0], abs=1e-3), i
    flipped = [i for i in np.flatnonzero(affected) if got[i]["classification"] != plain[i]["classification"]]
    assert flipped and all(got[i]["classification"] == "coding" for i in flipped)  # lowering only adds coding calls


def test_model_info_shows_the_short_shift(tmp_path, pair):
    spec = write_pair(
        tmp_path / "short.pair.json", tmp_path / "human.keras", tmp_path / "multispecies.keras",
        short=ShortShift(below=1000, log_odds=0.75),
    )  # fmt: skip
    res = run_cli("model-info", "-m", spec.path)
    assert res.code == 0, res.stderr
    assert "under 1000 nt read by the complete network: its threshold lowered by 0.75 in log-odds" in res.stdout
    assert "lowered by 0.75" in run_cli("model-info", "-m", spec.path, "--markdown").stdout


def test_pair_with_two_workers_writes_the_same_table(pair):
    one = run_cli("classify", TRANSCRIPTS, "-m", pair, "-q", "-t", "1")
    two = run_cli("classify", TRANSCRIPTS, "-m", pair, "-q", "-t", "2", "-b", "8")
    assert one.code == two.code == 0, two.stderr
    assert one.stdout == two.stdout


def test_pair_threshold_option_applies_to_the_pairs_scores(pair):
    res = run_cli("classify", TRANSCRIPTS, "-m", pair, "-q", "--threshold", "0.9")
    rows = _table(res.stdout)
    assert all((r["classification"] == "coding") == (float(r["coding_score"]) >= 0.9) for r in rows)


def test_model_info_shows_the_pair_and_both_networks(pair):
    res = run_cli("model-info", "-m", pair)
    assert res.code == 0, res.stderr
    assert "incomplete-orf" in res.stdout and "human.keras" in res.stdout and "multispecies.keras" in res.stdout
    data = json.loads(run_cli("model-info", "-m", pair, "--json").stdout)
    assert set(data["cards"]) == {"complete", "partial"}


# ---------------------------------------------------------------------------- bad pairs


def _classify(tmp_path, model, *more):
    out = tmp_path / "out" / "calls.tsv"
    out.parent.mkdir(exist_ok=True)
    res = run_cli("classify", TRANSCRIPTS, "-m", model, *more, "-o", out, "-q")
    assert not out.exists()
    return res


def test_pair_in_an_ensemble_is_refused(tmp_path, pair):
    res = _classify(tmp_path, pair, "-m", resolve_model("human"))
    assert_one_error_line(res, "test.pair.json", "ensemble")


def test_pair_with_a_swapped_network_is_refused(tmp_path, pair):
    data = json.loads(pair.read_text())
    data["members"]["complete"]["sha256"] = "0" * 64
    pair.write_text(json.dumps(data))
    assert_one_error_line(_classify(tmp_path, pair), "complete network human.keras", "SHA-256")


def test_pair_with_a_missing_network_is_refused(tmp_path, pair):
    (pair.parent / "multispecies.keras").unlink()
    assert_one_error_line(_classify(tmp_path, pair), "multispecies.keras", "not found")


@pytest.mark.parametrize(
    "text, needle",
    [
        ("{not json", "not valid JSON"),
        ('{"format": "something else"}', "not an rnaigloo model pair"),
        ('{"format": "rnaigloo-pair", "format_version": 9}', "format version 9"),
    ],
)
def test_broken_pair_files_are_refused(tmp_path, text, needle):
    bad = tmp_path / "bad.pair.json"
    bad.write_text(text)
    assert_one_error_line(_classify(tmp_path, bad), "bad.pair.json", needle)


@pytest.mark.parametrize(
    "short, version, needle",
    [
        ({"below": 1000, "log_odds": 0.5}, 1, "needs \"format_version\": 2"),
        ({"below": 0, "log_odds": 0.5}, 2, "found below=0"),
        ({"below": "1000", "log_odds": 0.5}, 2, "found below='1000'"),
        ({"below": 1000, "log_odds": 50}, 2, "found log_odds=50"),
        ({"below": 1000, "log_odds": float("nan")}, 2, "found log_odds=nan"),
        ({"below": 1000, "log_odds": True}, 2, "found log_odds=True"),
        ({"below": 1000}, 2, "'short' must be"),
        ({"below": 1000, "log_odds": 0.5, "network": "partial"}, 2, "'short' must be"),
        ([1000, 0.5], 2, "'short' must be"),
    ],
)
def test_bad_short_shifts_are_refused(tmp_path, pair, short, version, needle):
    data = json.loads(pair.read_text())
    data["short"], data["format_version"] = short, version
    pair.write_text(json.dumps(data))
    assert_one_error_line(_classify(tmp_path, pair), "test.pair.json", needle)


def test_unknown_rule_is_refused(tmp_path, pair):
    data = json.loads(pair.read_text())
    data["rule"] = "coin-toss"
    pair.write_text(json.dumps(data))
    assert_one_error_line(_classify(tmp_path, pair), "unknown rule 'coin-toss'")


def test_fine_tuning_a_pair_names_its_networks(tmp_path, pair):
    res = run_cli(
        "train", "--coding", EXAMPLES / "train_coding.fa.gz", "--noncoding", EXAMPLES / "train_noncoding.fa.gz",
        "-o", tmp_path / "ft.keras", "--init-from", pair, "-q",
    )  # fmt: skip
    assert_one_error_line(res, "--init-from", "model pair", "human", "multispecies")
    assert not (tmp_path / "ft.keras").exists()


def test_outputs_may_not_replace_a_pairs_networks(tmp_path, pair):
    network = pair.parent / "multispecies.keras"
    before = network.read_bytes()
    res = run_cli("classify", TRANSCRIPTS, "-m", pair, "-o", network, "-q")
    assert res.code != 0 and "multispecies.keras" in res.stderr
    assert network.read_bytes() == before


def test_evaluate_names_the_pair_and_uses_its_threshold(pair):
    res = run_cli(
        "evaluate", "--coding", EXAMPLES / "train_coding.fa.gz", "--noncoding", EXAMPLES / "train_noncoding.fa.gz",
        "-m", pair, "--json", "-q",
    )  # fmt: skip
    assert res.code == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["models"] == [str(pair)] and report["threshold"] == PAIR_THRESHOLD
    assert report["mcc"] > 0.5  # the synthetic training examples are easy
