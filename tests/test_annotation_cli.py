"""classify and train from a genome plus GTF/GFF3; shuffle and intergenic negatives; --init-from."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli, tiny_set_args
from synthetic_genome import (
    expected_sequences,
    genome_sequences,
    gff3_id,
    gff3_text,
    gtf_text,
    write_fasta,
    write_text,
    write_trainable_set,
)


@pytest.fixture
def small(tmp_path):
    seqs = genome_sequences()
    genome = write_fasta(tmp_path / "genome.fa", seqs)
    return genome, seqs


@pytest.mark.parametrize("kind", ["gtf", "gff3"])
def test_classify_annotation_gives_the_scores_of_the_same_fasta(small, tmp_path, kind):
    genome, seqs = small
    ann = write_text(tmp_path / f"a.{kind}", gtf_text() if kind == "gtf" else gff3_text(style="ensembl"))
    names = (lambda t: t) if kind == "gtf" else (lambda t: gff3_id(t, "ensembl"))
    fasta = write_fasta(tmp_path / "tx.fa", {names(k): v for k, v in expected_sequences(seqs).items()}, note="")
    from_ann = run_cli("classify", "--genome", genome, "--gtf", ann, "-o", tmp_path / "ann.tsv", "-q")
    from_fasta = run_cli("classify", fasta, "-o", tmp_path / "fa.tsv", "-q")
    assert from_ann.code == 0, from_ann.stderr
    assert from_fasta.code == 0, from_fasta.stderr
    got = (tmp_path / "ann.tsv").read_text()
    assert got == (tmp_path / "fa.tsv").read_text()
    assert [line.split("\t")[0] for line in got.splitlines()[1:]] == [names(k) for k in expected_sequences(seqs)]


def test_classify_bad_transcripts_are_named_or_skipped_and_listed(small, tmp_path):
    genome, _ = small
    text = gtf_text()
    text += 'chrZ\tt\texon\t1\t50\t.\t+\t.\tgene_id "g"; transcript_id "tx_on_chrZ";\n'
    text += 'chr2\tt\texon\t1990\t2050\t.\t+\t.\tgene_id "g"; transcript_id "tx_off_end";\n'
    ann = write_text(tmp_path / "a.gtf", text)
    out = tmp_path / "out.tsv"
    strict = run_cli("classify", "--genome", genome, "--gtf", ann, "-o", out)
    assert strict.code == 1
    assert (
        "2 transcript(s) cannot be read" in strict.stderr
        and "tx_on_chrZ" in strict.stderr
        and "tx_off_end" in strict.stderr
    )
    assert "--skip-bad-transcripts" in strict.stderr
    assert "the genome's sequences are named 'chr1', 'chr2'" in strict.stderr  # the usual cause: chr1 vs 1
    assert "Traceback" not in strict.stderr and not out.exists()
    skip = run_cli("classify", "--genome", genome, "--gtf", ann, "-o", out, "--skip-bad-transcripts")
    assert skip.code == 0, skip.stderr
    assert "skipped transcript tx_on_chrZ" in skip.stderr and "skipped transcript tx_off_end" in skip.stderr
    assert "2 annotated transcript(s) skipped" in skip.stderr
    assert len(out.read_text().splitlines()) == 1 + 5


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--gtf", "a.gtf"], 2, "--gtf needs --genome"),
        (["--genome", "genome.fa"], 2, "--genome is only used with --gtf"),
        (["tx.fa", "--genome", "genome.fa", "--gtf", "a.gtf"], 2, "not both"),
        ([], 2, "missing INPUT"),
        (["--genome", "genome.fa.gz", "--gtf", "a.gtf"], 1, "bgzip"),
        (["--genome", "missing.fa", "--gtf", "a.gtf"], 1, "not found: missing.fa"),
    ],
)
def test_classify_annotation_usage(small, tmp_path, monkeypatch, args, code, message):
    import gzip

    genome, _ = small
    monkeypatch.chdir(tmp_path)
    write_text(tmp_path / "a.gtf", gtf_text())
    write_fasta(tmp_path / "tx.fa", {"x": "ACGT"})
    with gzip.open(tmp_path / "genome.fa.gz", "wt") as fh:
        fh.write(genome.read_text())
    result = run_cli("classify", *args)
    assert result.code == code, result.stderr
    assert message in result.stderr


def test_init_from_resolves_the_bundled_model_by_name():
    from rnaigloo.errors import InputError
    from rnaigloo.network.paths import default_model_path
    from rnaigloo.training.start import model_path

    assert model_path("multispecies") == default_model_path().with_name("multispecies.keras")
    assert model_path("complete") == default_model_path().with_name("complete.keras")
    assert model_path("human") == default_model_path().with_name("human.keras")
    with pytest.raises(InputError, match="bundled: complete, default, human, multispecies"):
        model_path("no_such_model")
    with pytest.raises(InputError, match="default is a model pair .* complete .* or multispecies"):
        model_path("default")  # the bundled default is a pair: fine-tuning starts from one of its networks


def _train(tmp_path, name, *args):
    out = tmp_path / f"{name}.keras"
    result = run_cli("train", *args, "-o", out, "--epochs", "1", "--val-fraction", "0.25", "-q", *tiny_set_args())
    assert result.code == 0, result.stderr
    return out, json.loads((tmp_path / f"{name}.card.json").read_text())


@pytest.fixture(scope="module")
def trained_from_fasta(tmp_path_factory):
    """A tiny model trained on the trainable set given as FASTA (shared by two tests)."""
    tmp = tmp_path_factory.mktemp("fasta_model")
    s = write_trainable_set(tmp)
    path, card = _train(tmp, "fa", "--coding", s["coding_fa"], "--noncoding", s["noncoding_fa"])
    return s, path, card


@pytest.mark.slow
def test_train_from_annotations_sees_exactly_the_annotated_transcripts(tmp_path, trained_from_fasta):
    s = write_trainable_set(tmp_path)
    _, card = _train(
        tmp_path, "ann", "--genome", s["genome"], "--coding-gtf", s["coding_gtf"], "--noncoding-gtf", s["noncoding_gff"]
    )
    data = card["training_data"]
    assert data["coding"] == 24 and data["noncoding"] == 24
    assert data["files"] == {str(s["coding_gtf"]): 24, str(s["noncoding_gff"]): 24}
    files = [f for a in data["annotations"] for f in a["files"]]
    assert [(f["format"], f["transcripts"], f["exon_lines"]) for f in files] == [("GTF", 24, 48), ("GFF3", 24, 48)]
    assert all(a["skipped"] == [] for a in data["annotations"])
    # the same transcripts given as FASTA (same seed, same split) train the same model
    _, _, fasta_card = trained_from_fasta
    assert fasta_card["training_data"]["train"] == data["train"]
    assert fasta_card["validation_metrics"] == card["validation_metrics"]


@pytest.mark.slow
def test_train_with_shuffled_negatives(tmp_path):
    s = write_trainable_set(tmp_path, n_noncoding=0)
    args = ["--genome", s["genome"], "--coding-gtf", s["coding_gtf"], "--noncoding-mode", "shuffle", "--shuffle-k", "3"]
    _, card = _train(tmp_path, "shuf", *args, "--seed", "5")
    neg = card["training_data"]["negatives"]
    assert (neg["mode"], neg["k"], neg["seed"], neg["count"]) == ("shuffle", 3, 5, 24)
    assert card["training_data"]["noncoding"] == 24 and card["training_data"]["files"]["<shuffle>"] == 24


@pytest.mark.slow
def test_train_with_intergenic_negatives(tmp_path):
    s = write_trainable_set(tmp_path, n_noncoding=0)
    _, card = _train(
        tmp_path, "ig", "--genome", s["genome"], "--coding-gtf", s["coding_gtf"], "--noncoding-mode", "intergenic",
        "--intergenic-flank", "100",
    )  # fmt: skip
    neg = card["training_data"]["negatives"]
    assert neg["mode"] == "intergenic" and neg["seed"] == 42 and neg["flank"] == 100
    assert neg["count"] + neg["not_drawn"] == 24 and neg["count"] > 0
    assert card["training_data"]["noncoding"] == neg["count"]


def test_train_annotation_usage_errors(tmp_path):
    s = write_trainable_set(tmp_path, n_coding=2, n_noncoding=2)
    cases = [
        (["--coding-gtf", s["coding_gtf"], "--noncoding-mode", "shuffle"], "needs --genome"),
        (["--coding", s["coding_fa"]], "missing non-coding"),
        (["--coding", s["coding_fa"], "--noncoding", s["noncoding_fa"], "--noncoding-mode", "shuffle"], "not both"),
        (["--coding", s["coding_fa"], "--noncoding-mode", "intergenic"], "intergenic needs --genome and --coding-gtf"),
        (["--noncoding", s["noncoding_fa"]], "missing coding"),
    ]
    for args, message in cases:
        result = run_cli("train", *args, "-o", tmp_path / "m.keras")
        assert result.code == 2, (args, result.stderr)
        assert message in result.stderr


@pytest.mark.slow
def test_init_from_starts_from_the_model_and_keeps_its_shape(tmp_path, trained_from_fasta):
    s, base, base_card = trained_from_fasta
    fasta = ["--coding", s["coding_fa"], "--noncoding", s["noncoding_fa"]]
    out = tmp_path / "tuned.keras"
    result = run_cli(
        "train", *fasta, "-o", out, "--epochs", "1", "--val-fraction", "0.25", "--init-from", base,
        "--set", "learning_rate=0.0001",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert f"starting from the weights of {base.name} (learning rate 0.0001)" in result.stderr
    card = json.loads((tmp_path / "tuned.card.json").read_text())
    assert card["training"]["init_from"]["sha256"] == base_card["sha256"]
    assert card["config"] == {**base_card["config"], "learning_rate": 0.0001}
    refused = run_cli("train", *fasta, "-o", tmp_path / "x.keras", "--init-from", base, "--set", "nuc_patches=32")
    assert refused.code == 1 and "cannot be used with --init-from" in refused.stderr


def test_skipped_transcripts_are_listed_for_the_card(small, tmp_path):
    from rnaigloo.io.transcripts import AnnotatedTranscripts

    genome, seqs = small
    text = gtf_text() + 'chrZ\tt\texon\t1\t50\t.\t+\t.\tgene_id "g"; transcript_id "tx_on_chrZ";\n'
    ann = write_text(tmp_path / "a.gtf", text)
    logged: list[str] = []
    at = AnnotatedTranscripts(genome, [ann], skip_bad=True, log=logged.append)
    assert len(at) == 5 and at.per_file() == {str(ann): 5}
    summary = at.summary()
    assert summary["skipped"] == [
        {"transcript_id": "tx_on_chrZ", "reason": "sequence 'chrZ' is not in the genome genome.fa", "file": str(ann)}
    ]
    assert summary["files"][0]["format"] == "GTF" and summary["files"][0]["transcripts"] == 5
    assert logged == [f"skipped transcript tx_on_chrZ (sequence 'chrZ' is not in the genome genome.fa; {ann})"]
    records = list(at.records(gene_in_header=True))
    assert [r.header for r in records][:2] == ["tx_plus3 gene_id=gene_a", "tx_minus2 gene_id=gene_b"]
    assert {r.id: r.sequence for r in records} == expected_sequences(seqs)


def test_init_from_a_model_without_pieces_keeps_training_without_them():
    """0.1's card has no ``fragments``: fine-tuning it must not pick up today's default (0.3)."""
    from rnaigloo.network.config import DEFAULT_CONFIG
    from rnaigloo.training.start import initial_model

    assert DEFAULT_CONFIG["fragments"] > 0
    assert initial_model("human", None).config["fragments"] == 0.0
    assert initial_model("human", {"fragments": 0.2}).config["fragments"] == 0.2  # a training setting
    assert initial_model("multispecies", None).config["fragments"] == DEFAULT_CONFIG["fragments"]


@pytest.mark.parametrize("name", ["complete", "multispecies", "human"])
def test_init_from_keeps_the_models_learning_rate_unless_set(name):
    """--help and the README promise 1e-3 for the bundled networks: the rate fine-tuning was benchmarked at."""
    from rnaigloo.training.start import initial_model

    assert initial_model(name, None).config["learning_rate"] == 1e-3
    assert initial_model(name, {"learning_rate": 3e-4}).config["learning_rate"] == 3e-4


def test_classify_says_how_many_were_skipped_when_all_were(small, tmp_path):
    genome, _ = small
    ann = write_text(tmp_path / "a.gtf", 'chrZ\tt\texon\t1\t50\t.\t+\t.\tgene_id "g"; transcript_id "tx_on_chrZ";\n')
    skip = run_cli("classify", "--genome", genome, "--gtf", ann, "-o", tmp_path / "out.tsv", "--skip-bad-transcripts")
    assert skip.code == 0, skip.stderr
    assert "1 annotated transcript(s) skipped" in skip.stderr


def test_corrupt_compressed_annotation_is_one_line(small, tmp_path):
    import gzip

    from test_cli_errors import assert_one_error_line

    genome, _ = small
    data = bytearray(gzip.compress(gtf_text().encode() * 50))
    data[10] = 0xFF  # the first deflate block header: a reserved block type
    ann = tmp_path / "a.gtf.gz"
    ann.write_bytes(bytes(data))
    result = run_cli("classify", "--genome", genome, "--gtf", ann, "-o", tmp_path / "out.tsv")
    assert_one_error_line(result, str(ann), "corrupt compressed data")
    assert not (tmp_path / "out.tsv").exists()


def test_init_from_is_checked_before_training_and_never_overwritten(tmp_path, trained_from_fasta):
    from test_cli_errors import assert_one_error_line

    s, base, _ = trained_from_fasta
    fasta = ["--coding", s["coding_fa"], "--noncoding", s["noncoding_fa"]]
    missing = run_cli("train", *fasta, "-o", tmp_path / "x.keras", "--init-from", tmp_path / "nope.keras")
    assert_one_error_line(missing, "--init-from", "nope.keras")
    before = base.read_bytes()
    same = run_cli("train", *fasta, "-o", base, "--init-from", base)
    assert_one_error_line(same, str(base), "is an input")
    assert base.read_bytes() == before
