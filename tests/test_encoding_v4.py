"""Encoding version 4: its extra features worked out by hand, the hexamer table, and the
models that carry one (training, the card's checks, both engines)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import EXAMPLES, run_cli, tiny_set_args
from test_cli_errors import assert_one_error_line

from rnaigloo.encoding.encoder import encode_sequences, orf_hexamer_counts
from rnaigloo.encoding.reference import longest_orf, orf_protein_tokens, transcript_features
from rnaigloo.encoding.tables import (
    FEATURE_NAMES,
    HEXAMER_SCALE,
    N_FEATURES,
    V4_FEATURES,
    check_hexamer_table,
    feature_names,
    hexamer_log_ratios,
    n_features,
)
from rnaigloo.encoding.translation import codon_codes, nucleotide_tokens

ATG_AAA = (4 * 3 + 2) * 64 + 0  # codon codes: ATG 14, AAA 0, TTT 63
AAA_TTT = 0 * 64 + 63


def _v4(seq: str, table: np.ndarray) -> dict[str, float]:
    tokens = nucleotide_tokens(seq)
    codes = codon_codes(tokens)
    orf = longest_orf(tokens, codes, five_prime_open=False)
    vec = transcript_features(tokens, codes, orf, orf_protein_tokens(codes, orf), version=4, hexamer_table=table)
    assert vec.shape == (n_features(4),) and vec.dtype == np.float32
    return dict(zip(V4_FEATURES, vec[N_FEATURES:].tolist()))


def test_version_4_appends_its_features_and_the_others_keep_theirs():
    assert feature_names(1) == feature_names(2) == feature_names(3) == FEATURE_NAMES
    assert feature_names(4) == FEATURE_NAMES + V4_FEATURES
    assert n_features(4) == N_FEATURES + 13 and len(set(feature_names(4))) == n_features(4)


def test_version_4_features_worked_out_by_hand():
    #     GG ATG AAA TTT TAA GC: the ORF is 3..14 (ATG AAA TTT TAA), 16 nt
    seq = "GGATGAAATTTTAAGC"
    table = np.zeros(4096)
    table[ATG_AAA], table[AAA_TTT] = 0.5, -0.25
    f = _v4(seq, table)
    assert f["transcript_log10_length"] == pytest.approx(np.log10(16) / 5)
    assert f["orf_utr5_share"] == pytest.approx(2 / 16) and f["orf_utr3_share"] == pytest.approx(2 / 16)
    # frames read from the 5' end: GGA|TGA stops at 6, G|GAT GAA ATT TTA AGC runs to the end
    # (15 nt), GG|ATG AAA TTT TAA stops at 14: the longest is 15 of 16
    assert f["open_frame_share"] == pytest.approx(15 / 16)
    assert f["hexamer_score"] == pytest.approx((0.5 - 0.25) / 2)  # ATG-AAA and AAA-TTT; the stop is not read
    # codon positions (0-based index mod 3): A 2,2,2; C 1,0,0; G 1,2,1; T 2,1,2
    assert [f[f"position_{b}"] for b in "ACGT"] == pytest.approx([2 / 3, 1.0, 1.0, 1.0])
    assert [f[f"content_{b}"] for b in "ACGT"] == pytest.approx([6 / 16, 1 / 16, 4 / 16, 5 / 16])


def test_version_4_features_of_a_transcript_without_orf_and_of_the_empty_one():
    table = np.full(4096, 1.0)
    f = _v4("CCCCCCTAACC", table)  # no ATG: no ORF, no score, UTR shares 0
    assert f["orf_utr5_share"] == f["orf_utr3_share"] == f["hexamer_score"] == 0.0
    assert f["open_frame_share"] == pytest.approx(9 / 11)  # C|CCC CCT AAC C: frame 2 runs to 10
    assert all(v == 0.0 for v in _v4("", table).values())
    assert _v4("ATGTAA", table)["hexamer_score"] == 0.0  # one codon: no hexamer


def test_version_4_searches_orfs_as_version_1():
    # a 5'-open frame far longer than the ATG ORF: version 3 takes it, versions 1 and 4 do not
    seq = "C" + "GCA" * 60 + "TAA" + "ATGAAATAA"
    table = np.zeros(4096)
    orfs = {v: encode_sequences([seq], 50, 10, v, table if v == 4 else None).orfs[0] for v in (1, 3, 4)}
    assert orfs[1] == orfs[4] != orfs[3]


def test_encoding_4_needs_a_table_of_4096_multiples_of_its_scale():
    with pytest.raises(ValueError, match="needs the model's hexamer table"):
        encode_sequences(["ATG"], 10, 5, 4)
    with pytest.raises(ValueError, match="4096"):
        check_hexamer_table([0.5] * 10, 4)
    with pytest.raises(ValueError, match="multiples"):
        check_hexamer_table(np.full(4096, 0.1), 4)
    with pytest.raises(ValueError, match="finite"):
        check_hexamer_table(np.full(4096, np.nan), 4)
    assert check_hexamer_table(None, 3) is None  # other versions need none
    ok = check_hexamer_table(np.full(4096, 3 / HEXAMER_SCALE), 4)
    assert ok.dtype == np.float64 and ok.shape == (4096,)


def test_hexamer_log_ratios_favour_the_hexamers_of_coding_orfs():
    coding, noncoding = np.zeros(4096), np.zeros(4096)
    coding[ATG_AAA], noncoding[AAA_TTT] = 99, 99
    table = hexamer_log_ratios(coding, noncoding)
    assert table[ATG_AAA] > 0 > table[AAA_TTT]
    assert table[ATG_AAA] == pytest.approx(np.log((100 / 4195) / (1 / 4195)), abs=1 / HEXAMER_SCALE)
    assert table[5] == 0.0  # seen in neither class: add-one counts give a ratio of 1
    np.testing.assert_array_equal(np.round(table * HEXAMER_SCALE), table * HEXAMER_SCALE)
    with pytest.raises(ValueError, match="4096"):
        hexamer_log_ratios(np.zeros(10), np.zeros(10))


# ------------------------------------------------------------- models with a table


@pytest.fixture(scope="module")
def v4_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("v4") / "v4.keras"
    res = run_cli(
        "train", "--coding", EXAMPLES / "train_coding.fa.gz", "--noncoding", EXAMPLES / "train_noncoding.fa.gz",
        "-o", out, "--epochs", "1", "--seed", "3", "--encoding", "4", "-q", "--set", "fragments=0.2", *tiny_set_args(),
    )  # fmt: skip
    assert res.code == 0, res.stderr
    return out


def _card(model) -> dict:
    return json.loads(model.with_name(model.stem + ".card.json").read_text())


def test_a_version_4_model_stores_the_table_of_its_training_rows(v4_model):
    from rnaigloo.io.labelled import read_labelled
    from rnaigloo.training.data import split_validation

    enc = _card(v4_model)["encoding"]
    assert enc["version"] == 4 and enc["n_features"] == n_features(4) and len(enc["hexamer_table"]) == 4096
    data = read_labelled([str(EXAMPLES / "train_coding.fa.gz")], [str(EXAMPLES / "train_noncoding.fa.gz")])
    train_idx, val_idx = split_validation(data.labels, data.groups, 0.1, 3)
    rows = np.sort(train_idx)
    expected = hexamer_log_ratios(
        orf_hexamer_counts([data.sequences[i] for i in rows if data.labels[i] == 1], 4),
        orf_hexamer_counts([data.sequences[i] for i in rows if data.labels[i] == 0], 4),
    )
    np.testing.assert_array_equal(np.asarray(enc["hexamer_table"]), expected)
    everything = hexamer_log_ratios(
        orf_hexamer_counts([s for s, y in zip(data.sequences, data.labels) if y == 1], 4),
        orf_hexamer_counts([s for s, y in zip(data.sequences, data.labels) if y == 0], 4),
    )
    assert len(val_idx) and not np.array_equal(expected, everything)  # the validation rows were left out


def test_a_version_4_model_classifies_alike_with_both_engines_and_in_workers(v4_model, tmp_path):
    outputs = {}
    for name, extra in (("numpy", []), ("workers", ["-t", "2"]), ("tensorflow", ["--engine", "tensorflow"])):
        out = tmp_path / f"{name}.tsv"
        res = run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-m", v4_model, "-o", out, *extra)
        assert res.code == 0, res.stderr
        outputs[name] = [line.split("\t") for line in out.read_text().splitlines()[1:]]
    assert len(outputs["numpy"]) == 40
    assert outputs["workers"] == outputs["numpy"]
    np_scores = np.array([float(r[1]) for r in outputs["numpy"]])
    tf_scores = np.array([float(r[1]) for r in outputs["tensorflow"]])
    np.testing.assert_allclose(tf_scores, np_scores, atol=2e-5)
    res = run_cli("model-info", "-m", v4_model)
    assert res.code == 0 and "encoding 4" in res.stdout


def test_a_card_whose_table_was_removed_or_edited_is_refused(v4_model, tmp_path):
    import shutil

    for name, edit in (("removed", lambda e: e.pop("hexamer_table")), ("edited", lambda e: e.update(hexamer_table=[0.3] * 4096))):
        model = tmp_path / f"{name}.keras"
        shutil.copyfile(v4_model, model)
        card = _card(v4_model)
        edit(card["encoding"])
        model.with_name(model.stem + ".card.json").write_text(json.dumps(card))
        res = run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-m", model, "-o", tmp_path / f"{name}.tsv")
        assert_one_error_line(res, model.stem + ".card.json", "hexamer table")
        assert not (tmp_path / f"{name}.tsv").exists()


def test_fine_tuning_a_version_4_model_keeps_encoding_4_and_learns_its_own_table(v4_model, tmp_path):
    out = tmp_path / "tuned.keras"
    res = run_cli(
        "train", "--coding", EXAMPLES / "train_coding.fa.gz", "--noncoding", EXAMPLES / "train_noncoding.fa.gz",
        "-o", out, "--epochs", "1", "--seed", "5", "--init-from", v4_model, "-q",
    )  # fmt: skip
    assert res.code == 0, res.stderr
    base, tuned = _card(v4_model)["encoding"], _card(out)["encoding"]
    assert tuned["version"] == 4 and tuned["n_features"] == base["n_features"]
    assert tuned["hexamer_table"] != base["hexamer_table"]  # another seed, another split: another table
