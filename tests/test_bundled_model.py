"""The shipped models: their cards, their hashes, and a golden table on the example data.

``tests/data/example_calls.tsv`` is the default's output (the ``default`` pair) on
``example_data/transcripts.fa.gz`` and ``example_calls_human.tsv`` the ``human`` model's
(0.1's, encoding version 1), written when each was shipped (``rnaigloo classify
example_data/transcripts.fa.gz -t 1 [-m human]``). A change to the encoding, the engine,
the pair's rule or a model shows up here.
"""

from __future__ import annotations

import csv
import gzip

import pytest
from Bio.SeqIO.FastaIO import SimpleFastaParser
from conftest import EXAMPLES, ROOT, run_cli

from rnaigloo.network.card import read_card
from rnaigloo.network.paths import default_model_path

GOLDEN = ROOT / "tests" / "data" / "example_calls.tsv"


def _table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(text.splitlines(), delimiter="\t"))


def test_bundled_default_is_the_pair_of_complete_and_multispecies():
    from rnaigloo.network.pair import check_member, read_pair

    path = default_model_path()
    assert path.name == "default.pair.json"
    spec = read_pair(path)
    assert {role: p.name for role, p in spec.members.items()} == {"complete": "complete.keras", "partial": "multispecies.keras"}
    cards = {role: read_card(p) for role, p in spec.members.items()}  # each hash checked against its card
    for role, card in cards.items():
        check_member(spec, role, card)
    complete = cards["complete"]
    assert complete["config"]["fragments"] == 0 and complete["config"]["nuc_len"] == 1500
    assert complete["training_data"]["files"] == cards["partial"]["training_data"]["files"]  # same validation rows
    assert spec.data["validation_metrics"]["n"] == sum(complete["training_data"]["validation"].values())
    assert spec.data["held_out_metrics"]["by_length"]["all"]["n"] > 2000
    other = spec.data["other_held_out_metrics"]["sets"]
    assert other["human held-out small-ORF"]["n"] > 500
    assert other["fly (left out of training)"]["n"] > 1000  # a pair of networks trained without fly
    assert path.stat().st_size < 64 * 2**10 and spec.members["complete"].stat().st_size < 20 * 2**20


def test_bundled_multispecies_card_checks_out():
    from rnaigloo.network.paths import resolve_model

    path = resolve_model("multispecies")
    card = read_card(path)  # raises on a hash mismatch or an unknown format
    assert path.name == "multispecies.keras" and card["model_file"] == "multispecies.keras"
    assert card["training_data"]["coding"] > 10_000 and card["training_data"]["noncoding"] > 10_000
    assert 0.0 < card["threshold"] < 1.0
    assert card["held_out_metrics"]["by_length"]["all"]["n"] > 2000
    assert card["encoding"]["version"] == 3 and card["config"]["nuc_len"] == 3000
    assert 0 < card["calibration"]["temperature"] and card["calibration"]["brier_after"] <= card["calibration"]["brier_before"]
    left_out = [name for name in card["other_held_out_metrics"]["sets"] if name.endswith("(left out of training)")]
    assert len(left_out) == 3  # fly, Chlamydomonas, citrus, each scored by a model trained without it
    assert path.stat().st_size < 20 * 2**20


def test_bundled_human_model_card_checks_out():
    """0.1's model stays bundled as ``human``, read with the ATG-only ORF search it was trained with."""
    from rnaigloo.network.paths import resolve_model

    path = resolve_model("human")
    card = read_card(path)
    assert path.name == "human.keras" and card["model_file"] == "human.keras"
    assert card["encoding"]["version"] == 1 and card["config"]["nuc_len"] == 1500
    assert card["held_out_metrics"]["by_length"]["all"]["n"] > 2000
    res = run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-m", "human", "-q")
    assert res.code == 0, res.stderr
    assert len(_table(res.stdout)) == 40


@pytest.mark.parametrize(
    "model, golden",
    [([], GOLDEN), (["-m", "human"], GOLDEN.with_name("example_calls_human.tsv"))],
    ids=["default", "human"],
)
def test_classify_example_data_matches_the_golden_table(model, golden):
    res = run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-q", *model)
    assert res.code == 0, res.stderr
    got, want = _table(res.stdout), _table(golden.read_text())
    assert [r["sequence_name"] for r in got] == [r["sequence_name"] for r in want]
    for g, w in zip(got, want):
        assert float(g["coding_score"]) == pytest.approx(float(w["coding_score"]), abs=2e-5), g["sequence_name"]
        for column in ("classification", "orf_start", "orf_end", "orf_length", "orf_5prime", "orf_3prime"):
            assert g[column] == w[column], (g["sequence_name"], column)


def test_bundled_model_tells_the_composed_mrnas_from_the_random_lncrnas():
    with gzip.open(EXAMPLES / "transcripts.fa.gz", "rt") as fh:
        kinds = ["coding" if "mRNA" in header else "noncoding" for header, _ in SimpleFastaParser(fh)]
    calls = [r["classification"] for r in _table(run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-q").stdout)]
    agree = sum(k == c for k, c in zip(kinds, calls))
    assert agree >= 36  # of 40: the example transcripts are easy by design


def test_readme_card_tables_are_the_bundled_defaults():
    """The README shows `rnaigloo model-info --markdown` of the bundled default, verbatim."""
    res = run_cli("model-info", "--markdown")
    assert res.code == 0, res.stderr
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "### Model pair: default" in res.stdout and res.stdout in readme


def test_readme_python_api_example_runs_from_the_clone_root(monkeypatch, capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Python API") :]
    code = section[section.index("```python\n") + len("```python\n") : section.index("```\n", section.index("```python"))]
    monkeypatch.chdir(ROOT)
    exec(compile(code, "README.md", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 40 and all(len(line.split()) == 5 for line in lines)
