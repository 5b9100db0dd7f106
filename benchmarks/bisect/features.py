"""Do candidate short-transcript features carry coding signal the network misses?

Candidates (each computed on the transcript and its longest ATG ORF, 0.1's search):

* ``hexamer``: CPAT's hexamer score, the mean log-ratio of in-frame hexamer frequencies
  in coding and non-coding ORFs over the ORF's hexamers, with the table learned from the
  bisection's human training pool (add-one counts);
* ``position``: Fickett-style statistics of the transcript: for each base, the
  asymmetry of its use over the three codon positions (max / (min + 1)) and its
  content (8 values; Fickett's published lookup table is not used, the regression
  weighs them);
* ``utr``: the ORF's 5' and 3' UTR shares of the transcript;
* ``protein``: properties of the ORF's protein, as CPC2 and LncDC use them (Biopython's
  ``ProteinAnalysis``): isoelectric point, instability index, hydropathy (GRAVY) and
  aromaticity (residues other than the 20 standard ones left out; 0 without a protein).

On each development set it reports the feature's AUROC alone (its better direction) and
the 5-fold cross-validated AUROC of a logistic regression on the network's logit, with
and without the feature, for one network of 0.1's recipe (r01) and one of 0.2's (r02).
The folds are seeded (``SEED``); the regression is fitted on four folds and scores the
fifth, so no score is of a row it was fitted on. This measures whether a feature adds
ranking information, not what a network trained with it would reach.

Usage (after ``run.py prepare`` and ``run.py train r01 r02``)::

    python benchmarks/bisect/features.py [--networks r01 r02 ...]  # writes features.{md,json}
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def _bisection():
    """benchmarks/bisect/run.py, loaded under its own name (benchmarks/species has a run.py too)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bisect_run", HERE / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bisect = _bisection()
OUT, dev_sets, model_path, read_records = bisect.OUT, bisect.dev_sets, bisect.model_path, bisect.read_records

SEED = 20261205
NETWORKS = ("r01", "r02")
SETS = ("dev human < 1 kb", "dev small-ORF human", "dev small-ORF (all species)", "dev fragments (all species)")


def orf_of(seq: str):
    from rnaigloo.encoding.reference import longest_orf
    from rnaigloo.encoding.translation import codon_codes, nucleotide_tokens

    tokens = nucleotide_tokens(seq)
    return tokens, longest_orf(tokens, codon_codes(tokens), five_prime_open=False)


def orf_hexamers(tokens: np.ndarray, orf) -> np.ndarray:
    """Codes (0..4095) of the in-frame hexamers of the ORF: codon i with codon i + 1; none with an N."""
    if not orf.found:
        return np.zeros(0, dtype=np.int64)
    bases = tokens[orf.start - 1 : orf.end].astype(np.int64) - 1
    codons = len(bases) // 3
    if codons < 2:
        return np.zeros(0, dtype=np.int64)
    triplets = bases[: 3 * codons].reshape(codons, 3)
    ok = (triplets <= 3).all(axis=1)
    codes = 16 * triplets[:, 0] + 4 * triplets[:, 1] + triplets[:, 2]
    pair_ok = ok[:-1] & ok[1:]
    return (64 * codes[:-1] + codes[1:])[pair_ok]


def hexamer_table(coding: list[str], noncoding: list[str]) -> np.ndarray:
    """log(p_coding / p_noncoding) of each hexamer, from add-one counts over the ORFs."""
    counts = np.ones((2, 4096))
    for row, seqs in ((1, coding), (0, noncoding)):
        for s in seqs:
            counts[row] += np.bincount(orf_hexamers(*orf_of(s)), minlength=4096)
    freqs = counts / counts.sum(axis=1, keepdims=True)
    return np.log(freqs[1] / freqs[0])


def features(seqs: list[str], table: np.ndarray) -> dict[str, np.ndarray]:
    hexamer, position, utr, protein = [], [], [], []
    for s in seqs:
        tokens, orf = orf_of(s)
        hexes = orf_hexamers(tokens, orf)
        hexamer.append(table[hexes].mean() if len(hexes) else 0.0)
        row = []
        for base in (1, 2, 3, 4):
            at = [(tokens[frame::3] == base).sum() for frame in range(3)]
            row += [max(at) / (min(at) + 1), sum(at) / max(len(tokens), 1)]
        position.append(row)
        n = max(len(tokens), 1)
        utr.append([(orf.start - 1) / n, (len(tokens) - orf.end) / n] if orf.found else [1.0, 1.0])
        protein.append(protein_properties(s, orf))
    return {"hexamer": np.array(hexamer)[:, None], "position": np.array(position), "utr": np.array(utr),
            "protein": np.array(protein)}  # fmt: skip


def protein_properties(seq: str, orf) -> list[float]:
    """Isoelectric point, instability index, GRAVY and aromaticity of the ORF's protein."""
    from Bio.SeqUtils.ProtParam import ProteinAnalysis

    from rnaigloo.encoding.translation import codon_codes, nucleotide_tokens, translate_orf

    protein = "".join(a for a in translate_orf(codon_codes(nucleotide_tokens(seq)), orf) if a in AMINO_ACIDS)
    if not protein:
        return [0.0, 0.0, 0.0, 0.0]
    pa = ProteinAnalysis(protein)
    return [pa.isoelectric_point(), pa.instability_index(), pa.gravy(), pa.aromaticity()]


AMINO_ACIDS = set("ACDEFGHIKLMNPQRSTVWY")


def cv_auroc(x: np.ndarray, y: np.ndarray) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    out = np.zeros(len(y))
    for fit, held in StratifiedKFold(5, shuffle=True, random_state=SEED).split(x, y):
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, class_weight="balanced"))
        model.fit(x[fit], y[fit])
        out[held] = model.predict_proba(x[held])[:, 1]
    return float(roc_auc_score(y, out))


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--networks", nargs="+", default=list(NETWORKS), help="bisection runs (seed 42) to probe")
    networks = ap.parse_args().networks
    from run import score_model  # benchmarks/species/run.py, on the path bisect/run.py set
    from sklearn.metrics import roc_auc_score

    coding = [s for _, s in read_records(OUT / "human_coding.fa.gz")]
    noncoding = [s for _, s in read_records(OUT / "human_noncoding.fa.gz")]
    table = hexamer_table(coding, noncoding)
    by_name = {ts.name: ts for ts in dev_sets()}
    chosen = {"dev human < 1 kb": (by_name["dev human"], by_name["dev human"].lengths < 1000)}
    for name in SETS[1:]:
        chosen[name] = (by_name[name], np.ones(len(by_name[name].labels), dtype=bool))
    results: dict[str, dict] = {}
    for name, (ts, keep) in chosen.items():
        seqs = [s for s, k in zip(ts.seqs, keep) if k]
        y = ts.labels[keep]
        feats = features(seqs, table)
        row: dict[str, object] = {"n": len(y), "coding": int(y.sum())}
        for fname, values in feats.items():
            alone = cv_auroc(values, y) if values.shape[1] > 1 else float(roc_auc_score(y, values[:, 0]))
            row[f"{fname} alone"] = max(alone, 1 - alone) if values.shape[1] == 1 else alone
        for net in networks:
            scores, _, _ = score_model(str(model_path(net, 42)), seqs)
            logit = np.log(np.clip(scores, 1e-7, 1 - 1e-7) / np.clip(1 - scores, 1e-7, 1)).astype(np.float64)[:, None]
            row[f"{net}"] = float(roc_auc_score(y, scores))
            row[f"{net} cv"] = cv_auroc(logit, y)
            for fname, values in feats.items():
                row[f"{net} + {fname}"] = cv_auroc(np.hstack([logit, values]), y)
            row[f"{net} + all"] = cv_auroc(np.hstack([logit, *feats.values()]), y)
        results[name] = row
        print(name, json.dumps(row), flush=True)
    payload = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "seed": SEED, "results": results}
    (HERE / "features.json").write_text(json.dumps(payload, indent=2) + "\n")
    cols = [k for k in next(iter(results.values())) if k not in ("n", "coding")]
    lines = ["AUROC on the development sets (alone: the feature by itself; cv: 5-fold cross-validated "
             "logistic regression on the network's logit, + a feature)\n",
             "| set | n (coding) | " + " | ".join(cols) + " |", "|---" * (len(cols) + 2) + "|"]  # fmt: skip
    for name, row in results.items():
        lines.append(f"| {name} | {row['n']} ({row['coding']}) | " + " | ".join(f"{row[c]:.3f}" for c in cols) + " |")
    (HERE / "features.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
