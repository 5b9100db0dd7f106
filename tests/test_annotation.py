"""GTF/GFF3 reading and transcript sequences spliced from an indexed genome."""

from __future__ import annotations

import gzip
import shutil
import subprocess

import pytest
from synthetic_genome import (
    TRANSCRIPTS,
    expected_sequences,
    genome_sequences,
    gff3_id,
    gff3_text,
    gtf_text,
    write_bgzip,
    write_fasta,
    write_text,
)

from rnaigloo.errors import InputError
from rnaigloo.io.annotation import read_annotation
from rnaigloo.io.genome import Genome, reverse_complement


@pytest.fixture
def genome(tmp_path):
    seqs = genome_sequences()
    return write_fasta(tmp_path / "genome.fa", seqs), seqs


def _spliced(genome_path, annotation_path):
    ann = read_annotation(annotation_path)
    with Genome(genome_path) as g:
        assert [g.problem(t) for t in ann.transcripts] == [None] * len(ann.transcripts)
        return ann, {t.id: seq for t, seq in g.sequences(ann.transcripts)}


def test_hand_written_case(tmp_path):
    # chrT: AAACCCgggTTTACGT ; + transcript = exons 1-3 and 7-9 -> "AAA" + "ggg";
    # - transcript = exons 10-12 and 13-16 listed descending -> revcomp("TTTACGT") = "ACGTAAA"
    genome = tmp_path / "g.fa"
    genome.write_text(">chrT\nAAACCCgggTTTACGT\n")
    gtf = tmp_path / "a.gtf"
    gtf.write_text(
        'chrT\tx\texon\t7\t9\t.\t+\t.\tgene_id "g1"; transcript_id "p";\n'
        'chrT\tx\texon\t1\t3\t.\t+\t.\tgene_id "g1"; transcript_id "p";\n'
        'chrT\tx\texon\t13\t16\t.\t-\t.\tgene_id "g2"; transcript_id "m";\n'
        'chrT\tx\texon\t10\t12\t.\t-\t.\tgene_id "g2"; transcript_id "m";\n'
    )
    _, seqs = _spliced(genome, gtf)
    assert seqs == {"p": "AAAggg", "m": "ACGTAAA"}


def test_reverse_complement_keeps_case_and_iupac():
    assert reverse_complement("ACGTNacgtnRYKM") == "KMRYnacgtNACGT"


@pytest.mark.parametrize("gz", [False, True])
def test_gtf_transcripts_match_hand_computed(genome, tmp_path, gz):
    genome_path, seqs = genome
    gtf = write_text(tmp_path / ("a.gtf.gz" if gz else "a.gtf"), gtf_text(), gz=gz)
    ann, got = _spliced(genome_path, gtf)
    assert ann.format == "GTF"
    assert [t.id for t in ann.transcripts] == [t[0] for t in TRANSCRIPTS]  # file order
    assert got == expected_sequences(seqs)
    assert any(c.islower() for c in got["tx_plus3"])  # soft-masked letters come through as they are
    assert {t.id: t.gene for t in ann.transcripts}["tx_minus3"] == "gene_b"
    assert ann.problems == [] and ann.unstranded == []


@pytest.mark.parametrize("style", ["ensembl", "ncbi"])
def test_gff3_transcripts_match_hand_computed(genome, tmp_path, style):
    genome_path, seqs = genome
    gff = write_text(tmp_path / "a.gff3", gff3_text(style=style))
    ann, got = _spliced(genome_path, gff)
    assert ann.format == "GFF3"
    assert got == {gff3_id(k, style): v for k, v in expected_sequences(seqs).items()}
    genes = {t.id: t.gene for t in ann.transcripts}
    assert genes[gff3_id("tx_minus2", style)] == ("gene:gene_b" if style == "ensembl" else "gene-gene_b")


def test_format_is_told_by_content_not_name(tmp_path):
    gtf_named_gff = write_text(tmp_path / "really_gtf.gff3", gtf_text(), gz=True)
    gff_named_gtf = write_text(tmp_path / "really_gff.gtf", gff3_text().replace("##gff-version 3\n", ""))
    assert read_annotation(gtf_named_gff).format == "GTF"
    assert read_annotation(gff_named_gtf).format == "GFF3"


def test_bgzip_genome_gives_the_same_sequences(genome, tmp_path):
    genome_path, seqs = genome
    bgz = write_bgzip(tmp_path / "genome.fa.gz", genome_path.read_text())
    gtf = write_text(tmp_path / "a.gtf", gtf_text())
    _, got = _spliced(bgz, gtf)
    assert got == expected_sequences(seqs)


def test_plain_gzip_genome_is_refused_with_the_fix(genome, tmp_path):
    genome_path, _ = genome
    gz = tmp_path / "genome.fa.gz"
    with gzip.open(gz, "wt") as fh:
        fh.write(genome_path.read_text())
    with pytest.raises(InputError, match="bgzip") as err:
        Genome(gz)
    assert "\n" not in str(err.value)


def test_unwritable_directory_gets_a_temporary_index(genome, monkeypatch):
    genome_path, seqs = genome
    import rnaigloo.io.genome as genome_module

    monkeypatch.setattr(genome_module.os, "access", lambda path, mode: False)  # as for a read-only directory
    with Genome(genome_path) as g:
        assert g.fetch("chr1", 1, 10) == seqs["chr1"][:10]
        tmpdir = g._tmpdir
        assert tmpdir is not None
    assert not genome_path.with_name("genome.fa.fai").exists()
    assert not __import__("os").path.exists(tmpdir)  # removed on close


def test_problem_transcripts_are_each_named(genome, tmp_path):
    genome_path, _ = genome
    bad = [
        ("tx_nochrom", "g", "chrX", "+", [(1, 100)]),
        ("tx_offend", "g", "chr2", "+", [(1900, 2100)]),
        ("tx_overlap", "g", "chr1", "+", [(100, 200), (150, 300)]),
    ]
    text = gtf_text(TRANSCRIPTS + bad)
    text += 'chr1\tt\texon\t10\t20\t.\t+\t.\tgene_id "g"; transcript_id "tx_twochroms";\n'
    text += 'chr2\tt\texon\t10\t20\t.\t+\t.\tgene_id "g"; transcript_id "tx_twochroms";\n'
    text += 'chr2\tt\texon\t10\t20\t.\t.\t.\tgene_id "g"; transcript_id "tx_unstranded";\n'
    ann = read_annotation(write_text(tmp_path / "a.gtf", text))
    assert {p.transcript_id: p.reason.split()[0] for p in ann.problems} == {
        "tx_overlap": "exons",
        "tx_twochroms": "exons",
    }
    assert "overlap" in str(ann.problems[0]) and "more than one sequence" in str(ann.problems[1])
    assert ann.unstranded == ["tx_unstranded"]
    with Genome(genome_path) as g:
        problems = {t.id: g.problem(t) for t in ann.transcripts}
    assert "not in the genome" in problems["tx_nochrom"].reason
    assert "past the end of chr2 (2000 nt)" in problems["tx_offend"].reason
    assert all(problems[t[0]] is None for t in TRANSCRIPTS)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no exon lines"),
        ("# only a comment\n", "no exon lines"),
        ("chr1\tx\texon\t1\t10\n", "expected 9 tab-separated"),
        (">chr1\nACGT\n", "give it with --genome"),
        ('chr1\tx\texon\tone\t10\t.\t+\t.\ttranscript_id "t";\n', "whole-number"),
        ('chr1\tx\texon\t20\t10\t.\t+\t.\ttranscript_id "t";\n', "start <= end"),
        ('chr1\tx\texon\t1\t10\t.\t+\t.\tgene_id "g";\n', "without a transcript_id"),
        ("##gff-version 3\nchr1\tx\texon\t1\t10\t.\t+\t.\tID=e1\n", "without a Parent="),
    ],
)
def test_bad_annotation_files(tmp_path, text, message):
    path = write_text(tmp_path / "bad.gtf", text)
    with pytest.raises(InputError, match=message):
        read_annotation(path)


def test_gff3_multiple_parents_and_fasta_section(tmp_path):
    text = (
        "##gff-version 3\n"
        "chr1\tx\tmRNA\t1\t100\t.\t+\t.\tID=t1;Parent=g1\n"
        "chr1\tx\tmRNA\t1\t100\t.\t+\t.\tID=t%3B2;Parent=g1\n"
        "chr1\tx\texon\t1\t50\t.\t+\t.\tParent=t1,t%3B2\n"
        "chr1\tx\texon\t61\t100\t.\t+\t.\tParent=t1\n"
        "##FASTA\n>chr1\nACGT\n"
    )
    ann = read_annotation(write_text(tmp_path / "a.gff3", text))
    assert [(t.id, t.exons, t.gene) for t in ann.transcripts] == [
        ("t1", ((1, 50), (61, 100)), "g1"),
        ("t;2", ((1, 50),), "g1"),
    ]


@pytest.mark.skipif(shutil.which("gffread") is None, reason="gffread is not installed (Debian package gffread)")
@pytest.mark.parametrize("kind", ["gtf", "gff3"])
def test_same_sequences_as_gffread(genome, tmp_path, kind):
    genome_path, _ = genome
    text = gtf_text() if kind == "gtf" else gff3_text(style="ncbi")
    ann_path = write_text(tmp_path / f"a.{kind}", text)
    out = tmp_path / "gffread.fa"
    subprocess.run(["gffread", "-w", str(out), "-g", str(genome_path), str(ann_path)], check=True, capture_output=True)
    from Bio.SeqIO.FastaIO import SimpleFastaParser

    with open(out) as fh:
        theirs = {h.split()[0]: s for h, s in SimpleFastaParser(fh)}
    _, ours = _spliced(genome_path, ann_path)
    assert set(theirs) == set(ours)  # gffread names GFF3 transcripts by ID, as we do
    assert ours == theirs  # soft-masked letters included
