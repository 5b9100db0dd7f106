"""Speed and memory of ``rnaigloo classify`` next to CPC2, measured in one run.

Usage (from the repository root, after ``pip install ".[bench]"``):

    python benchmarks/speed/run.py [--n 2000] [--scaling 10000,100000,1000000] [-m [LABEL=]MODEL ...]

Writes its table to ``benchmarks/RESULTS.md`` (section "Speed and memory") and the raw
figures to ``benchmarks/speed/results.json``. Inputs are generated from a fixed seed into
``benchmarks/work/speed/`` (not committed):

* side by side: N transcripts of 200-5,000 nt (half with a long ORF), scored by
  ``rnaigloo classify`` and by ``cpc2`` as separate processes; sequences/s is N over
  the wall time of the whole command (start-up included) and peak RSS is the child's
  ``ru_maxrss``;
* start-up: ``rnaigloo --help``, and ``classify`` of a single record (import, model
  load, first batch);
* memory scaling: ``classify`` of 10^4, 10^5, 10^6 records of 300-1,200 nt (gzipped),
  peak RSS of each.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "benchmarks" / "work" / "speed"
SEED = 2026
CODONS = np.array([a + b + c for a in "ACGT" for b in "ACGT" for c in "ACGT" if a + b + c not in ("TAA", "TAG", "TGA")])


def transcripts(n: int, lo: int, hi: int, seed: int):
    """Yield (name, sequence): half with an ORF over most of their length, half random."""
    rng = np.random.default_rng(seed)
    bases = np.array(list("ACGT"))
    for i in range(n):
        length = int(rng.integers(lo, hi + 1))
        if i % 2 == 0 and length > 150:
            cds_codons = int(rng.integers(length // 6, length // 3))
            utr5 = int(rng.integers(0, max(1, length - 3 * cds_codons - 3)))
            cds = "ATG" + "".join(rng.choice(CODONS, cds_codons - 1)) + "TGA"
            rest = length - utr5 - len(cds)
            seq = "".join(rng.choice(bases, utr5)) + cds + "".join(rng.choice(bases, max(rest, 0)))
        else:
            seq = "".join(rng.choice(bases, length))
        yield f"bench_{i:07d}", seq[:length]


def write_fasta(path: Path, n: int, lo: int, hi: int, seed: int) -> Path:
    if path.is_file():
        return path
    tmp = path.with_suffix(path.suffix + ".tmp")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(tmp, "wt", compresslevel=1) if path.suffix == ".gz" else open(tmp, "w") as fh:  # type: ignore[operator]
        for name, seq in transcripts(n, lo, hi, seed):
            fh.write(f">{name}\n{seq}\n")
    os.replace(tmp, path)
    return path


def measure(cmd: list[str], env: dict | None = None) -> dict[str, float]:
    """Wall seconds and peak memory (MB) of one command and all its processes.

    ``peak_rss_mb`` is the peak of the summed RSS of the command's whole process tree
    (worker processes included), sampled every 50 ms with psutil.
    """
    import psutil

    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            tree = [root] + root.children(recursive=True)
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    wall = time.perf_counter() - t
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {err.strip()[-500:]}")
    return {"seconds": wall, "peak_rss_mb": peak / 2**20}


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cores = len(os.sched_getaffinity(0))
    return f"{cpu}, {cores} cores available, {mem:.0f} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def main() -> None:
    ap = argparse.ArgumentParser(description="rnaigloo classify speed and memory, side by side with CPC2.")
    ap.add_argument("--n", type=int, default=2000, help="transcripts in the side-by-side run")
    ap.add_argument("--scaling", default="10000,100000,1000000", help="record counts of the memory runs ('' to skip)")
    ap.add_argument(
        "-m", "--model", action="append", default=[], metavar="[LABEL=]MODEL",
        help="model to time, repeatable (the first also with the TensorFlow engine and in the memory runs) [the default model]",
    )
    ap.add_argument("-t", "--threads", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=3, help="runs of each side-by-side command (best is kept)")
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    rnaigloo = [sys.executable, "-m", "rnaigloo"]
    threads = ["-t", str(args.threads)] if args.threads else []
    models = [m.split("=", 1) if "=" in m else (m, m) for m in args.model] or [("default model", None)]
    options = {label: (["-m", path] if path else []) + threads for label, path in models}
    extra = options[models[0][0]]
    results: dict = {"machine": machine(), "n": args.n, "models": dict(models)}

    def classify(opts: list[str], *more: str):
        return lambda fa: rnaigloo + ["classify", str(fa), "-o", str(WORK / "out.tsv"), "-q", *more, *opts]

    commands = {}
    for i, (label, _) in enumerate(models):
        commands[f"rnaigloo, {label} (numpy engine)"] = classify(options[label])
        if i == 0:
            commands[f"rnaigloo, {label} (tensorflow engine)"] = classify(options[label], "--engine", "tensorflow")
    if shutil.which("cpc2"):
        commands["CPC2"] = lambda fa: ["cpc2", "-i", str(fa), "-o", str(WORK / "cpc2_out")]
    else:
        print("cpc2 not found (pip install cpc2-standalone): CPC2 left out", file=sys.stderr)
    side: dict[str, dict] = {}
    for n in (args.n, 10 * args.n):
        fa = write_fasta(WORK / f"side_{n}.fa", n, 200, 5000, SEED)
        for tool, command in commands.items():
            runs = [measure(command(fa)) for _ in range(args.repeats if n == args.n else 1)]
            best = min(runs, key=lambda r: r["seconds"])
            side.setdefault(str(n), {})[tool] = {
                "seconds": best["seconds"],
                "seq_per_s": n / best["seconds"],
                "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            }
            print(f"{n} {tool}: {side[str(n)][tool]}", file=sys.stderr)
    results["side_by_side"] = side

    one = WORK / "one.fa"
    one.write_text(">one\nATGAAACCCGGGTTTTAA\n")
    results["startup"] = {
        "help_seconds": min(measure(rnaigloo + ["--help"])["seconds"] for _ in range(3)),
        "classify_one_seconds": min(measure(rnaigloo + ["classify", str(one), "-q", *extra])["seconds"] for _ in range(3)),
    }

    scaling = {}
    for n in [int(x) for x in args.scaling.split(",") if x]:
        path = write_fasta(WORK / f"scale_{n}.fa.gz", n, 300, 1200, SEED + n)
        r = measure(rnaigloo + ["classify", str(path), "-o", str(WORK / "scale_out.tsv"), "-q", *extra])
        scaling[str(n)] = {**r, "seq_per_s": n / r["seconds"]}
        print(f"scaling {n}: {r}", file=sys.stderr)
    results["scaling"] = scaling
    (ROOT / "benchmarks" / "speed" / "results.json").write_text(json.dumps(results, indent=2) + "\n")

    lines = [
        f"Machine: {results['machine']}.",
        "",
        "Models: " + ", ".join(f"{label} = `{path or 'the bundled default'}`" for label, path in models) + ".",
        "",
        "Side by side on the same generated transcripts of 200-5,000 nt: wall time of the whole command "
        f"(start-up included; best of {args.repeats} for {args.n:,}, one run for {10 * args.n:,}). "
        "Peak RSS is the peak of the summed resident memory of all the command's processes (worker processes included), sampled every 50 ms.",
        "",
        "| transcripts | tool | seconds | sequences/s | vs CPC2 | peak RSS (MB) |",
        "|---|---|---|---|---|---|",
    ]
    for n, tools in side.items():
        base = tools.get("CPC2", {}).get("seq_per_s")
        for tool, r in tools.items():
            ratio = f"{r['seq_per_s'] / base:.2f}x" if base else "-"
            lines.append(f"| {int(n):,} | {tool} | {r['seconds']:.2f} | {r['seq_per_s']:,.0f} | {ratio} | {r['peak_rss_mb']:.0f} |")
    s = results["startup"]
    lines += ["", f"Start-up: `rnaigloo --help` {s['help_seconds']:.2f} s; classify of one record (import, model load, first batch) {s['classify_one_seconds']:.2f} s.", ""]
    if scaling:
        lines += [f"Memory scaling ({models[0][0]}; records of 300-1,200 nt, gzipped):", "", "| records | seconds | sequences/s | peak RSS (MB) |", "|---|---|---|---|"]
        for n, r in scaling.items():
            lines.append(f"| {int(n):,} | {r['seconds']:.1f} | {r['seq_per_s']:,.0f} | {r['peak_rss_mb']:.0f} |")
    table = "\n".join(lines) + "\n"
    print(table)
    results_md = ROOT / "benchmarks" / "RESULTS.md"
    text = results_md.read_text() if results_md.is_file() else "# Benchmark results\n"
    marker = "## Speed and memory"
    head = text.split(marker)[0].rstrip() + "\n\n"
    tail = ""
    if marker in text:
        after = text.split(marker, 1)[1]
        nxt = after.find("\n## ")
        tail = after[nxt:] if nxt >= 0 else ""
    results_md.write_text(head + marker + f" (benchmarks/speed/run.py, {time.strftime('%Y-%m-%d')})\n\n" + table + tail)


if __name__ == "__main__":
    main()
