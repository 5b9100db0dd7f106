"""FASTA input: what is accepted, what is rejected, and how the rejection reads."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import random
import sys
import types
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnaigloo.errors import InputError
from rnaigloo.io.fasta import Record, read_fasta, read_many

# ---------------------------------------------------------------------------- helpers


def write(tmp_path: Path, data: bytes | str, name: str = "in.fa") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def records(tmp_path: Path, data: bytes | str, name: str = "in.fa") -> list[Record]:
    return list(read_fasta(write(tmp_path, data, name)))


def error_of(path: Path | str) -> str:
    with pytest.raises(InputError) as info:
        list(read_fasta(path))
    return str(info.value)


def random_fasta(n: int, length: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    return "".join(f">r{i}\n" + "".join(rng.choice("ACGT") for _ in range(length)) + "\n" for i in range(n))


# ---------------------------------------------------------------------------- accepted


def test_plain_records_with_ids_numbers_and_source(tmp_path):
    path = write(tmp_path, ">a first\nACGT\n>b\nGGCC\n")
    recs = list(read_fasta(path))
    assert [(r.id, r.header, r.sequence, r.number) for r in recs] == [
        ("a", "a first", "ACGT", 1),
        ("b", "b", "GGCC", 2),
    ]
    assert all(r.source == str(path) for r in recs)


def test_crlf_line_endings(tmp_path):
    recs = records(tmp_path, b">a desc\r\nACGT\r\nAC\r\n>b\r\nGG\r\n")
    assert [(r.id, r.header, r.sequence) for r in recs] == [("a", "a desc", "ACGTAC"), ("b", "b", "GG")]


def test_lowercase_and_u_kept_as_written(tmp_path):
    recs = records(tmp_path, ">a\nacguACGU\n")
    assert recs[0].sequence == "acguACGU"


def test_iupac_letters_kept_as_is(tmp_path):
    seq = "ACGT" * 10 + "RYKMSWBDHV"
    recs = records(tmp_path, f">a\n{seq}\n")
    assert recs[0].sequence == seq


@pytest.mark.parametrize(
    "seq",
    [
        "ATGRYKMSWNNNACGTBDHVTAA",  # every letter an IUPAC nucleotide code
        "RYKMSWBDHVN" * 20,  # nothing but ambiguity codes
        "ryKmswbdhvnACGTU" * 5 + "xXnn",  # any case; X (masked bases)
        "MKTAYWSRKDHVNN",  # made only of IUPAC codes, even if it reads like a peptide
    ],
)
def test_records_of_iupac_nucleotide_codes_are_transcripts(tmp_path, seq):
    recs = records(tmp_path, f">t\n{seq}\n")
    assert recs[0].sequence == seq


@pytest.mark.parametrize(
    ("seq", "letters"),
    [
        ("MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVK", "E, F, I, L, P, Q"),
        ("ACGTACGTACGTACGTACGE", "E"),  # one such letter is enough, whatever the share
        ("mkl", "L"),  # short and lowercase too
        ("ACGTJOZ", "J, O, Z"),
    ],
)
def test_letters_no_nucleotide_alphabet_has_mean_protein(tmp_path, seq, letters):
    msg = error_of(write(tmp_path, f">ok\nACGT\n>p\n{seq}\n", "p.fa"))
    assert "p.fa, record 2" in msg and "protein" in msg and f"({letters};" in msg


def test_blank_lines_between_and_inside_records(tmp_path):
    recs = records(tmp_path, "\n\n>a\nAC\n\nGT\n\n\n>b\n\nTT\n   \n")
    assert [(r.id, r.sequence) for r in recs] == [("a", "ACGT"), ("b", "TT")]


def test_wrapped_and_unwrapped_sequences(tmp_path):
    seq = "ACGTTGCA" * 40
    wrapped = "\n".join(seq[i : i + 60] for i in range(0, len(seq), 60))
    recs = records(tmp_path, f">w\n{wrapped}\n>u\n{seq}\n")
    assert [r.sequence for r in recs] == [seq, seq]


def test_no_final_newline(tmp_path):
    assert records(tmp_path, ">a\nACGT")[0].sequence == "ACGT"


def test_sequence_shorter_than_a_codon(tmp_path):
    assert [r.sequence for r in records(tmp_path, ">a\nAC\n>b\nG\n")] == ["AC", "G"]


def test_empty_sequence_records(tmp_path):
    recs = records(tmp_path, ">empty1\n>full\nACGT\n>empty2\n")
    assert [(r.id, r.sequence, r.number) for r in recs] == [("empty1", "", 1), ("full", "ACGT", 2), ("empty2", "", 3)]


def test_200kb_sequence(tmp_path):
    seq = "".join(random.Random(1).choice("ACGT") for _ in range(200_000))
    wrapped = "\n".join(seq[i : i + 80] for i in range(0, len(seq), 80))
    recs = records(tmp_path, f">big\n{wrapped}\n>big_one_line\n{seq}\n")
    assert [len(r.sequence) for r in recs] == [200_000, 200_000]
    assert recs[0].sequence == seq and recs[1].sequence == seq


def test_n_only_sequence(tmp_path):
    assert records(tmp_path, ">n\n" + "N" * 500 + "\n")[0].sequence == "N" * 500


def test_header_with_tabs_and_unicode(tmp_path):
    recs = records(tmp_path, ">tx1\tgène=ÄBC1\tß 🧬\nACGT\n>tx2 naïve\tdescription\nGG\n")
    assert [r.header for r in recs] == ["tx1\tgène=ÄBC1\tß 🧬", "tx2 naïve\tdescription"]
    assert [r.id for r in recs] == ["tx1", "tx2"]


def test_unicode_id(tmp_path):
    assert records(tmp_path, ">ärger_1 x\nACGT\n")[0].id == "ärger_1"


@pytest.mark.parametrize(
    ("compress", "name"),
    [
        (gzip.compress, "reads.fa"),  # compressed, but named as plain text
        (gzip.compress, "reads.fa.bz2"),  # named as the wrong format
        (bz2.compress, "reads.txt"),
        (bz2.compress, "reads.fa.gz"),
        (lzma.compress, "reads"),
        (lzma.compress, "reads.fa.gz"),
    ],
)
def test_compression_sniffed_from_magic_bytes_not_extension(tmp_path, compress, name):
    text = ">a x\nACGT\nAC\n>b\nGGG\n"
    recs = records(tmp_path, compress(text.encode()), name)
    assert [(r.id, r.header, r.sequence) for r in recs] == [("a", "a x", "ACGTAC"), ("b", "b", "GGG")]


def _fake_stdin(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(buffer=io.BufferedReader(io.BytesIO(data))))


def test_stdin_dash(monkeypatch):
    _fake_stdin(monkeypatch, b">a\nACGT\n>b\nTT\n")
    recs = list(read_fasta("-"))
    assert [(r.id, r.sequence, r.source) for r in recs] == [("a", "ACGT", "<stdin>"), ("b", "TT", "<stdin>")]


def test_stdin_gzip(monkeypatch):
    _fake_stdin(monkeypatch, gzip.compress(b">a\nACGT\n"))
    assert [r.sequence for r in read_fasta("-")] == ["ACGT"]


def test_stdin_error_names_stdin(monkeypatch):
    _fake_stdin(monkeypatch, b"")
    assert "<stdin>" in error_of("-")


def test_read_many_chains_files(tmp_path):
    a = write(tmp_path, ">a\nAC\n", "a.fa")
    b = write(tmp_path, gzip.compress(b">b\nGG\n>c\nTT\n"), "b.fa.gz")
    recs = list(read_many([a, b]))
    assert [(r.id, r.source, r.number) for r in recs] == [("a", str(a), 1), ("b", str(b), 1), ("c", str(b), 2)]


def test_same_id_in_separate_read_fasta_calls_is_fine(tmp_path):
    a = write(tmp_path, ">x\nAC\n", "a.fa")
    b = write(tmp_path, ">x\nGG\n", "b.fa")
    assert [r.id for r in read_fasta(a)] + [r.id for r in read_fasta(b)] == ["x", "x"]


# ---------------------------------------------------------------------------- rejected


def test_empty_file(tmp_path):
    msg = error_of(write(tmp_path, b"", "empty.fa"))
    assert "empty.fa" in msg and "empty" in msg.split("empty.fa", 1)[1]


def test_whitespace_only_file(tmp_path):
    msg = error_of(write(tmp_path, "\n  \n\n", "blank.fa"))
    assert "blank.fa" in msg and "no FASTA records" in msg


def test_text_without_header(tmp_path):
    msg = error_of(write(tmp_path, "hello world\nACGT\n", "notes.txt"))
    assert "notes.txt" in msg and "line 1" in msg and "'>'" in msg and "hello world" in msg


def test_text_after_blank_lines_names_its_line(tmp_path):
    msg = error_of(write(tmp_path, "\n\nACGT\n>a\nAC\n", "headless.fa"))
    assert "headless.fa" in msg and "line 3" in msg


def test_fastq(tmp_path):
    msg = error_of(write(tmp_path, "@read1\nACGT\n+\nIIII\n", "reads.fq"))
    assert "reads.fq" in msg and "FASTQ" in msg and "line 1" in msg


def test_gtf(tmp_path):
    line = 'chr1\tHAVANA\ttranscript\t11869\t14409\t.\t+\t.\tgene_id "G1"; transcript_id "T1";\n'
    assert line.count("\t") == 8
    msg = error_of(write(tmp_path, line, "genes.gtf"))
    assert "genes.gtf" in msg and "GTF" in msg


def test_binary_with_nul_bytes(tmp_path):
    msg = error_of(write(tmp_path, b"\x00\x01\x02\x03" * 20, "blob.bin"))
    assert "blob.bin" in msg and "NUL" in msg and "line 1" in msg


def test_nul_byte_inside_a_record_names_its_line(tmp_path):
    msg = error_of(write(tmp_path, b">a\nACGT\n>b\nAC\x00GT\n", "nul.fa"))
    assert "nul.fa" in msg and "NUL" in msg and "line 4" in msg


def test_binary_not_utf8(tmp_path):
    msg = error_of(write(tmp_path, b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "image.png"))
    assert "image.png" in msg and "UTF-8" in msg


def test_non_utf8_bytes_in_header(tmp_path):
    msg = error_of(write(tmp_path, b">a\nACGT\n>b\nACGT\n>c \xff\xfe x\nACGT\n", "latin.fa"))
    assert "latin.fa" in msg and "UTF-8" in msg


def test_non_utf8_error_names_the_right_line(tmp_path):
    # The bad bytes are on line 5; the message must not point elsewhere.
    msg = error_of(write(tmp_path, b">a\nACGT\n>b\nACGT\n>c \xff\xfe x\nACGT\n", "latin.fa"))
    assert "line 5" in msg, msg


def test_protein_sequence(tmp_path):
    protein = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVK"
    assert len(protein) == 60
    msg = error_of(write(tmp_path, f">ok\nACGT\n>prot1 some protein\n{protein}\n", "prot.fa"))
    assert "prot.fa" in msg and "record 2" in msg and "line 3" in msg and "protein" in msg and "prot1" in msg


@pytest.mark.parametrize(("bad", "pos"), [("1", 5), ("*", 9), ("-", 3), (".", 2)])
def test_non_letters_in_sequence(tmp_path, bad, pos):
    seq = "ACGTACGTACGT"
    seq = seq[: pos - 1] + bad + seq[pos - 1 :]
    msg = error_of(write(tmp_path, f">a\nAC\n>b\nGG\n>c\n{seq}\n", "odd.fa"))
    assert "odd.fa" in msg and "record 3" in msg and "line 5" in msg and repr(bad) in msg and f"position {pos}" in msg


def test_gzip_truncated(tmp_path):
    data = gzip.compress(random_fasta(50, 300).encode())
    msg = error_of(write(tmp_path, data[:-20], "cut.fa.gz"))
    assert "cut.fa.gz" in msg and "ends early" in msg


def test_gzip_corrupt_middle(tmp_path):
    data = bytearray(gzip.compress(random_fasta(200, 300).encode()))
    mid = len(data) // 2
    for i in range(mid, mid + 16):
        data[i] ^= 0xFF
    # Garbage may be caught as corrupt deflate data, as a failed CRC, or as bad
    # characters in a record: in every case an InputError naming the file.
    msg = error_of(write(tmp_path, bytes(data), "bad.fa.gz"))
    assert "bad.fa.gz" in msg


def test_gzip_crc_mismatch(tmp_path):
    data = bytearray(gzip.compress(b">a\nACGT\n"))
    data[-8] ^= 0xFF  # first byte of the CRC-32 in the trailer
    msg = error_of(write(tmp_path, bytes(data), "crc.fa.gz"))
    assert "crc.fa.gz" in msg and "corrupt" in msg


def test_gzip_bad_deflate_data(tmp_path):
    data = bytearray(gzip.compress(b">a\nACGT\n"))
    data[10] = 0xFF  # first byte of the deflate stream: reserved block type 3
    msg = error_of(write(tmp_path, bytes(data), "deflate.fa.gz"))
    assert "deflate.fa.gz" in msg and "corrupt" in msg


def test_bzip2_truncated(tmp_path):
    data = bz2.compress(random_fasta(50, 300).encode())
    msg = error_of(write(tmp_path, data[: len(data) // 2], "cut.fa.bz2"))
    assert "cut.fa.bz2" in msg


def test_xz_truncated(tmp_path):
    data = lzma.compress(random_fasta(50, 300).encode())
    msg = error_of(write(tmp_path, data[: len(data) // 2], "cut.fa.xz"))
    assert "cut.fa.xz" in msg


@pytest.mark.parametrize("header", [">", "> desc", ">\tdesc"])
def test_empty_id(tmp_path, header):
    msg = error_of(write(tmp_path, f">a\nAC\n{header}\nACGT\n", "noid.fa"))
    assert "noid.fa" in msg and "record 2" in msg and "line 3" in msg and "empty sequence ID" in msg


def test_duplicate_id_in_one_file(tmp_path):
    msg = error_of(write(tmp_path, ">a\nAC\n>b x\nGG\n>b y\nTT\n", "dup.fa"))
    assert "dup.fa" in msg and "record 3" in msg and "line 5" in msg and "'b'" in msg and "duplicate" in msg


def test_duplicate_id_across_files(tmp_path):
    a = write(tmp_path, ">x\nAC\n>y\nGG\n", "one.fa")
    b = write(tmp_path, ">z\nTT\n>y\nCC\n", "two.fa")
    with pytest.raises(InputError) as info:
        list(read_many([a, b]))
    msg = str(info.value)
    assert "two.fa" in msg and "record 2" in msg and "'y'" in msg and "duplicate" in msg


def test_missing_file(tmp_path):
    msg = error_of(tmp_path / "nope.fa")
    assert "nope.fa" in msg and "not found" in msg


def test_directory(tmp_path):
    (tmp_path / "adir").mkdir()
    msg = error_of(tmp_path / "adir")
    assert "adir" in msg and "directory" in msg


def test_error_is_raised_lazily_after_good_records(tmp_path):
    path = write(tmp_path, ">a\nAC\n>b\nA1\n", "late.fa")
    it = read_fasta(path)
    assert next(it).id == "a"
    with pytest.raises(InputError, match="record 2"):
        next(it)


# ---------------------------------------------------------------------------- properties

_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.|-"
# No line breaks of any kind (TextIOWrapper splits on \n and \r; str.rstrip would eat the others).
_DESC_CHARS = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"))


@st.composite
def nucleotide_sequence(draw) -> str:
    """From 'ACGTUNacgtun' with IUPAC ambiguity codes mixed in."""
    base = draw(st.text(alphabet="ACGTUNacgtun", max_size=300))
    n_iupac = draw(st.integers(0, len(base)))
    chars = list(base)
    for letter in draw(st.lists(st.sampled_from("RYKMSWBDHVryX"), min_size=n_iupac, max_size=n_iupac)):
        chars.insert(draw(st.integers(0, len(chars))), letter)
    return "".join(chars)


@st.composite
def fasta_file(draw):
    ids = draw(st.lists(st.text(alphabet=_ID_CHARS, min_size=1, max_size=12), min_size=1, max_size=8, unique=True))
    crlf = draw(st.booleans())
    nl = "\r\n" if crlf else "\n"
    blank = st.sampled_from(["", "  ", "\t"])
    lines: list[str] = []
    expected = []
    lines += draw(st.lists(blank, max_size=2))
    for seq_id in ids:
        desc = draw(st.none() | st.text(alphabet=_DESC_CHARS | st.just("\t"), max_size=20))
        sep = draw(st.sampled_from([" ", "\t"]))
        header = seq_id if desc is None else seq_id + sep + desc
        seq = draw(nucleotide_sequence())
        width = draw(st.integers(1, 100))
        lines.append(">" + header)
        for i in range(0, len(seq), width):
            lines.append(seq[i : i + width])
            if draw(st.integers(0, 9)) == 0:
                lines.append(draw(blank))
        lines += draw(st.lists(blank, max_size=2))
        expected.append((seq_id, header.rstrip(), seq))
    text = nl.join(lines) + (nl if draw(st.booleans()) else "")
    return text.encode("utf-8"), expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=fasta_file())
def test_property_well_formed_fasta_round_trips(tmp_path, case):
    data, expected = case
    path = tmp_path / "prop.fa"
    path.write_bytes(data)
    recs = list(read_fasta(path))
    assert [(r.id, r.header, r.sequence) for r in recs] == expected
    assert [r.number for r in recs] == list(range(1, len(expected) + 1))


_MAGIC = [b"", b">", b">a\n", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"@", b"\xef\xbb\xbf"]
_FASTAISH = st.text(alphabet=">ACGTNacgun \t\r\n@+#*-0é\x00\x85\u2028", max_size=400).map(str.encode)


def _truncated(compress):
    return st.tuples(st.binary(max_size=300), st.integers(0, 400)).map(lambda t: compress(t[0])[: t[1]])


_ANY_BYTES = st.one_of(
    st.binary(max_size=2000),
    st.tuples(st.sampled_from(_MAGIC), st.binary(max_size=500)).map(b"".join),
    _FASTAISH,
    _truncated(gzip.compress),
    _truncated(bz2.compress),
    _truncated(lzma.compress),
    _FASTAISH.map(gzip.compress),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_ANY_BYTES)
def test_property_arbitrary_bytes_raise_only_input_error(tmp_path, data):
    path = tmp_path / "fuzz.fa"
    path.write_bytes(data)
    try:
        recs = list(read_fasta(path))
    except InputError as err:
        assert "fuzz.fa" in str(err)
        assert "\n" not in str(err)  # the CLI shows it as one line
    else:
        assert recs, "a file that reads without error must hold at least one record"


def test_seen_ids_grow_and_find_duplicates():
    from rnaigloo.io.fasta import SeenIds

    seen = SeenIds(capacity=4)
    ids = [f"tx{i}" for i in range(5000)]
    assert all(seen.add(i) for i in ids)
    assert len(seen) == 5000
    assert not any(seen.add(i) for i in ids[::7])
    assert seen.add("one more") and len(seen) == 5001


# ---------------------------------------------------------------------------- formats that are not read


def _zstd_frame() -> bytes:
    return b"\x28\xb5\x2f\xfd" + bytes(20)  # a zstd magic number and frame header


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (_zstd_frame(), "zstd-compressed: decompress it first"),
        (gzip.compress(gzip.compress(b">a\nACGT\n")), "gzip-compressed data inside gzip (compressed twice)"),
        (gzip.compress(bz2.compress(b">a\nACGT\n")), "bzip2-compressed data inside gzip (compressed twice)"),
        (lzma.compress(gzip.compress(b">a\nACGT\n")), "gzip-compressed data inside xz (compressed twice)"),
        (gzip.compress(_zstd_frame()), "zstd-compressed data inside gzip"),
        (b"PK\x03\x04" + bytes(40), "zip archive"),
        (bytes(257) + b"ustar\x0000" + bytes(250), "tar archive"),
        (gzip.compress(b"BAM\x01" + bytes(40)), "gzip-compressed, and inside it BAM alignments"),
    ],
)
def test_other_compressions_and_archives_are_named(tmp_path, data, needle):
    msg = error_of(write(tmp_path, data, "in.dat"))
    assert "in.dat: " in msg and needle in msg and "binary" not in msg and "UTF-8" not in msg


def test_zstd_on_stdin_is_named(monkeypatch):
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(buffer=io.BufferedReader(io.BytesIO(_zstd_frame()))))
    assert "zstd-compressed" in error_of("-")
