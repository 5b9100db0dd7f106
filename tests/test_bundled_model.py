"""The shipped model: its card, its hash, and a golden table on the example data.

``tests/data/example_calls.tsv`` is the bundled model's output on
``example_data/transcripts.fa.gz``, written when the model was shipped (see
models/README.md). A change to the encoding, the engine or the model shows up here.
"""

from __future__ import annotations

import csv
import gzip

import pytest
from Bio.SeqIO.FastaIO import SimpleFastaParser
from conftest import EXAMPLES, ROOT, run_cli

from rnaigloo.network.modelfile import default_model_path, read_card

GOLDEN = ROOT / "tests" / "data" / "example_calls.tsv"


def _table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(text.splitlines(), delimiter="\t"))


def test_bundled_model_card_checks_out():
    path = default_model_path()
    card = read_card(path)  # raises on a hash mismatch or an unknown format
    assert path.name == "human.keras"
    assert card["training_data"]["coding"] > 10_000 and card["training_data"]["noncoding"] > 10_000
    assert 0.0 < card["threshold"] < 1.0
    assert card["held_out_metrics"]["by_length"]["all"]["n"] > 2000
    assert card["encoding"]["version"] == 1 and card["config"]["nuc_len"] == 1500
    assert path.stat().st_size < 20 * 2**20


def test_partial_model_card_checks_out():
    from rnaigloo.network.modelfile import resolve_model

    path = resolve_model("partial")
    card = read_card(path)
    assert path.name == "partial.keras" and card["model_file"] == "partial.keras"
    assert card["encoding"]["version"] == 2 and card["config"]["nuc_len"] == 3000
    assert 0 < card["calibration"]["temperature"] and card["calibration"]["brier_after"] <= card["calibration"]["brier_before"]
    left_out = [name for name in card["other_held_out_metrics"]["sets"] if name.endswith("(left out of training)")]
    assert len(left_out) == 3  # fly, Chlamydomonas, citrus, each scored by a model trained without it
    res = run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-m", "partial", "-q")
    assert res.code == 0, res.stderr
    assert len(_table(res.stdout)) == 40


def test_classify_example_data_matches_the_golden_table():
    res = run_cli("classify", EXAMPLES / "transcripts.fa.gz", "-q")
    assert res.code == 0, res.stderr
    got, want = _table(res.stdout), _table(GOLDEN.read_text())
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


def test_readme_card_table_is_the_bundled_card():
    """The README shows `rnaigloo model-info --markdown` of the bundled model, verbatim."""
    from rnaigloo.network.modelfile import card_markdown

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert card_markdown(read_card(default_model_path())) in readme


def test_readme_python_api_example_runs_from_the_clone_root(monkeypatch, capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Python API") :]
    code = section[section.index("```python\n") + len("```python\n") : section.index("```\n", section.index("```python"))]
    monkeypatch.chdir(ROOT)
    exec(compile(code, "README.md", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 40 and all(len(line.split()) == 5 for line in lines)
