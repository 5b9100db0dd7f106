"""A model pair: two networks and a rule that sends each transcript to one of them.

A network trained with pieces of transcripts (``fragments``) reads fragments well and
complete short mRNAs badly; one trained on whole transcripts the other way round
(``benchmarks/TUNING.md``). A pair keeps both and lets the transcript choose: its
longest ORF, found by the ORF search of encoding ``rule_encoding``, decides.

``NAME.pair.json`` names its two networks, each a ``.keras`` file with its card in the
same directory, and records each network's SHA-256 (a swapped network is refused)::

    {"format": "rnaigloo-pair", "format_version": 1, "name": "default",
     "rule": "incomplete-orf", "rule_encoding": 3,
     "members": {"complete": {"model": "complete.keras", "sha256": "..."},
                 "partial": {"model": "multispecies.keras", "sha256": "..."}},
     ...}

Rule ``incomplete-orf``: a transcript whose longest ORF lacks a start codon (a frame
open to the 5' end won) or a stop codon goes to ``partial``; the rest (complete ORFs,
no ORF) to ``complete``. Each network's calibrated score is moved in log-odds so that
its own threshold lands on 0.5, the pair's threshold; so a transcript is called coding
exactly when the network that read it calls it coding, and one threshold serves the
output table.

A version-2 pair may also carry ``"short": {"below": 1000, "log_odds": 0.5}``: for the
transcripts shorter than ``below`` nt that the complete network reads, its threshold is
lowered by ``log_odds`` (their scores rise by that much in log-odds before the mapping
to 0.5). A network's threshold is chosen where long transcripts far outnumber short
mRNAs; this moves the short ones' operating point without touching the rest.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnaigloo.encoding.tables import ENCODING_VERSIONS
from rnaigloo.errors import ModelError
from rnaigloo.network.card import load_json
from rnaigloo.network.paths import PAIR_SUFFIX, is_pair_path

PAIR_FORMAT = "rnaigloo-pair"
PAIR_FORMAT_VERSION = 2  # written when a pair has a short-transcript shift; 1 otherwise
PAIR_FORMAT_VERSIONS = (1, 2)
SHORT_LOG_ODDS_LIMIT = 10.0
MEMBERS = ("complete", "partial")
RULES = {
    "incomplete-orf": "a longest ORF without a start codon (a frame open to the 5' end) or without a stop codon "
    "goes to the partial network; complete ORFs and no ORF go to the complete network",
}
PAIR_THRESHOLD = 0.5  # each network's own threshold is mapped here


@dataclass(frozen=True)
class ShortShift:
    """The complete network's threshold lowered by ``log_odds`` for transcripts shorter than ``below`` nt."""

    below: int
    log_odds: float

    def as_json(self) -> dict[str, Any]:
        return {"below": self.below, "log_odds": self.log_odds}

    def text(self) -> str:
        return f"transcripts under {self.below} nt read by the complete network: its threshold lowered by {self.log_odds:g} in log-odds"


@dataclass(frozen=True)
class PairSpec:
    """A checked pair file: its networks' paths, the rule, the short-transcript shift (if any) and the whole JSON."""

    path: Path
    name: str
    rule: str
    rule_encoding: int
    members: dict[str, Path]
    sha256: dict[str, str]
    data: dict[str, Any]
    short: ShortShift | None = None


def _short_shift(path: Path, data: dict[str, Any]) -> ShortShift | None:
    """The pair's ``short`` entry, checked (None where it has none)."""
    if "short" not in data:
        return None
    value = data["short"]
    expected = f'{{"below": transcript length in nt (an integer >= 1), "log_odds": a number within +-{SHORT_LOG_ODDS_LIMIT:g}}}'
    if data.get("format_version") != PAIR_FORMAT_VERSION:
        raise ModelError(
            f"model pair {path}: 'short' needs \"format_version\": {PAIR_FORMAT_VERSION}, found {data.get('format_version')!r}"
        )
    if not isinstance(value, dict) or sorted(value) != ["below", "log_odds"]:
        raise ModelError(f"model pair {path}: 'short' must be {expected}, found {value!r}")
    below, log_odds = value["below"], value["log_odds"]
    if isinstance(below, bool) or not isinstance(below, int) or below < 1:
        raise ModelError(f"model pair {path}: 'short' must be {expected}, found below={below!r}")
    if (
        isinstance(log_odds, bool)
        or not isinstance(log_odds, (int, float))
        or not math.isfinite(log_odds)
        or abs(log_odds) > SHORT_LOG_ODDS_LIMIT
    ):
        raise ModelError(f"model pair {path}: 'short' must be {expected}, found log_odds={log_odds!r}")
    return ShortShift(below, float(log_odds))


def read_pair(path: str | os.PathLike) -> PairSpec:
    """Read and check ``NAME.pair.json`` (the networks' own cards are checked when they load).

    Raises:
        ModelError: missing, not JSON, of another format, an unknown rule, or a network
            missing or not the one the pair was made with.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model pair file not found: {path}")
    data = load_json(path, "model pair")
    if not isinstance(data, dict) or data.get("format") != PAIR_FORMAT:
        raise ModelError(f"{path} is not an rnaigloo model pair (expected \"format\": \"{PAIR_FORMAT}\")")
    if data.get("format_version") not in PAIR_FORMAT_VERSIONS:
        raise ModelError(
            f"model pair {path.name} has format version {data.get('format_version')!r}; this rnaigloo reads "
            f"versions {', '.join(map(str, PAIR_FORMAT_VERSIONS))}"
        )
    rule, encoding = data.get("rule"), data.get("rule_encoding")
    if rule not in RULES:
        raise ModelError(f"model pair {path}: unknown rule {rule!r}; known: {', '.join(RULES)}")
    if encoding not in ENCODING_VERSIONS:
        raise ModelError(f"model pair {path}: rule_encoding must be one of {ENCODING_VERSIONS}, found {encoding!r}")
    members = data.get("members")
    if not isinstance(members, dict) or sorted(members) != sorted(MEMBERS):
        raise ModelError(f"model pair {path}: 'members' must name exactly {' and '.join(MEMBERS)}")
    paths, hashes = {}, {}
    for role in MEMBERS:
        entry = members[role]
        if not isinstance(entry, dict) or not isinstance(entry.get("model"), str) or not isinstance(entry.get("sha256"), str):
            raise ModelError(f"model pair {path}: member {role!r} needs 'model' (a file name) and 'sha256'")
        name = entry["model"]
        if Path(name).name != name or not name.endswith(".keras"):
            raise ModelError(f"model pair {path}: member {role!r} must be a .keras file beside the pair, found {name!r}")
        paths[role] = path.parent / name
        hashes[role] = entry["sha256"]
    name = str(data.get("name", path.name[: -len(PAIR_SUFFIX)]))
    return PairSpec(path, name, rule, encoding, paths, hashes, data, _short_shift(path, data))


def one_network_needed(name: str | os.PathLike, spec: PairSpec) -> ModelError:
    """The error for a pair given where one network is needed (``name`` as the user gave
    it), naming the pair's two networks."""
    return ModelError(
        f"{name} is a model pair of two networks; name one of them: {spec.members['complete'].stem} "
        f"(trained on whole transcripts) or {spec.members['partial'].stem} (trained with fragments too)"
    )


def check_member(spec: PairSpec, role: str, card: dict[str, Any]) -> None:
    """The network loaded for ``role`` is the one the pair was made with.

    Raises:
        ModelError: its card's SHA-256 is not the pair's.
    """
    if card.get("sha256") != spec.sha256[role]:
        raise ModelError(
            f"model pair {spec.path.name}: its {role} network {spec.members[role].name} is not the one it was made "
            f"with (SHA-256 {str(card.get('sha256'))[:12]}..., the pair's {spec.sha256[role][:12]}...)"
        )


def pair_summary(spec: PairSpec) -> str:
    """A few lines on a checked pair (what ``rnaigloo model-info`` prints before each network's summary)."""
    lines = [
        f"{spec.path}\n  model pair {spec.name!r}: rule {spec.rule} (ORF search of encoding {spec.rule_encoding}): "
        f"{RULES[spec.rule]}",
        f"  threshold {PAIR_THRESHOLD} (each network's own threshold, mapped to {PAIR_THRESHOLD})",
    ]
    if spec.short:
        lines.append(f"  {spec.short.text()}")
    for role in MEMBERS:
        lines.append(f"  {role}: {spec.members[role].name}")
    return "\n".join(lines) + "\n"


def write_pair(
    path: str | os.PathLike,
    complete: str | os.PathLike,
    partial: str | os.PathLike,
    *,
    name: str | None = None,
    rule_encoding: int = 3,
    short: ShortShift | None = None,
    extra: dict[str, Any] | None = None,
) -> PairSpec:
    """Write ``NAME.pair.json`` for two checked networks in the pair file's directory.

    Raises:
        ModelError: a network is not beside the pair file, or its card does not check.
        ValueError: the file name does not end in ``.pair.json``.
    """
    from rnaigloo._version import __version__
    from rnaigloo.io.files import write_json_atomic
    from rnaigloo.network.card import read_card

    path = Path(path)
    if not is_pair_path(path):
        raise ValueError(f"a model pair's file name ends in {PAIR_SUFFIX}, found {path.name}")
    members = {}
    for role, model in (("complete", Path(complete)), ("partial", Path(partial))):
        if model.resolve().parent != path.resolve().parent:
            raise ModelError(f"the {role} network {model} must sit in the pair's directory {path.parent}")
        members[role] = {"model": model.name, "sha256": read_card(model)["sha256"]}
    data = {
        "format": PAIR_FORMAT,
        "format_version": PAIR_FORMAT_VERSION if short else 1,
        "name": name or path.name[: -len(PAIR_SUFFIX)],
        "rnaigloo_version": __version__,
        "rule": "incomplete-orf",
        "rule_encoding": rule_encoding,
        "rule_text": RULES["incomplete-orf"],
        "threshold": PAIR_THRESHOLD,
        "members": members,
        **({"short": short.as_json()} if short else {}),
        **(extra or {}),
    }
    write_json_atomic(path, data)
    return read_pair(path)


def pair_markdown(spec: PairSpec) -> str:
    """The pair as Markdown (``rnaigloo model-info --markdown`` prints it before each network's card)."""
    rows = [
        ("networks", ", ".join(f"{role}: `{spec.members[role].name}`" for role in MEMBERS)),
        ("rule", f"{spec.rule} (ORF search of encoding {spec.rule_encoding}): {RULES[spec.rule]}"),
        ("threshold", f"{PAIR_THRESHOLD} (each network's own threshold, mapped to {PAIR_THRESHOLD} in log-odds)"),
    ]
    if spec.short:
        rows.append(("short transcripts", spec.short.text()))
    if spec.data.get("description"):
        rows.append(("why", str(spec.data["description"])))
    from rnaigloo.network.card import metrics_markdown

    lines = [f"### Model pair: {spec.name}", "", "| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(lines) + "\n" + metrics_markdown(spec.data)
