"""The model card: the JSON beside a ``NAME.keras`` file, checked before the network is read.

``NAME.card.json`` holds everything needed to use and judge a model: the format version,
the rnaigloo and library versions that made it, the model config (input lengths
included), the decision threshold, the training data and metrics, the probe scores
(:mod:`rnaigloo.network.probes`) and the SHA-256 of the ``.keras`` file. :func:`read_card`
checks all of it, the hash included, without TensorFlow; :func:`card_summary` and
:func:`card_markdown` render it for ``model-info``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from rnaigloo._version import __version__
from rnaigloo.architecture import ARCHITECTURE_VERSION
from rnaigloo.encoding.tables import ENCODING_VERSIONS, check_hexamer_table, n_features
from rnaigloo.errors import ModelError
from rnaigloo.io.files import sha256_of
from rnaigloo.network.config import card_settings, check_threshold, disagreements, resolve_config
from rnaigloo.network.paths import card_path

# 2: the card holds the architecture version and the probe scores (rnaigloo 0.2).
FORMAT_VERSION = 2


def load_json(path: Path, what: str) -> Any:
    """The JSON in ``path`` (a model card or a model pair's file, named ``what`` in errors).

    Raises:
        ModelError: not UTF-8 or not valid JSON.
    """
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise ModelError(f"{what} {path} is not valid JSON: {err}") from None


def read_card(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check the card of the model at ``path`` (no TensorFlow needed).

    Raises:
        ModelError: the model or its card is missing, damaged, or of another format.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    cpath = card_path(path)
    if not cpath.is_file():
        raise ModelError(f"model card not found: expected {cpath} beside {path.name}")
    card = load_json(cpath, "model card")
    if not isinstance(card, dict) or "format_version" not in card:
        raise ModelError(f"model card {cpath} has no format_version; is it an rnaigloo model card?")
    if card["format_version"] != FORMAT_VERSION:
        raise ModelError(
            f"model {path.name} has format version {card['format_version']} (made by rnaigloo "
            f"{card.get('rnaigloo_version', '?')}); this rnaigloo {__version__} reads format {FORMAT_VERSION}"
        )
    for key in ("sha256", "threshold", "config", "encoding", "architecture", "probes"):
        if key not in card:
            raise ModelError(f"model card {cpath} lacks {key!r}")
    _check_encoding(card["encoding"], path, cpath)
    calibration = card.get("calibration", {})
    temperature = calibration.get("temperature", 1.0) if isinstance(calibration, dict) else None
    if not isinstance(temperature, (int, float)) or isinstance(temperature, bool) or not 0 < temperature < 1e6:
        raise ModelError(f"model card {cpath}: calibration temperature must be a positive number, found {temperature!r}")
    if card["architecture"].get("version") != ARCHITECTURE_VERSION:
        raise ModelError(
            f"model {path.name} has architecture version {card['architecture'].get('version')}; this rnaigloo "
            f"{__version__} builds and reads version {ARCHITECTURE_VERSION}: retrain it or use the rnaigloo that made it"
        )
    actual = sha256_of(path)
    if actual != card["sha256"]:
        raise ModelError(
            f"model file {path} is damaged or was changed: SHA-256 {actual[:12]}... does not match "
            f"its card's {str(card['sha256'])[:12]}..."
        )
    _check_card_values(card, path, cpath)
    return card


def _check_encoding(encoding: Any, path: Path, cpath: Path) -> None:
    """The card's encoding is one this rnaigloo reads, with its feature count and hexamer table."""
    version = encoding.get("version") if isinstance(encoding, dict) else None
    if version not in ENCODING_VERSIONS or encoding.get("n_features") != n_features(version):
        known = ", ".join(f"{v} ({n_features(v)} features)" for v in ENCODING_VERSIONS)
        found = encoding.get("n_features") if isinstance(encoding, dict) else None
        raise ModelError(
            f"model {path.name} was trained on encoding version {version} ({found} features); this "
            f"rnaigloo {__version__} reads versions {known}: retrain it or use the rnaigloo that made it"
        )
    try:
        check_hexamer_table(encoding.get("hexamer_table"), version)
    except ValueError as err:
        raise ModelError(f"model card {cpath}: {err}; was the card edited? Restore it or retrain") from None


def _check_card_values(card: dict[str, Any], path: Path, cpath: Path) -> None:
    """The card's threshold and settings are valid and are those the network was built with.

    A card edited by hand (another ``nuc_len``, more stacks) would otherwise make the
    encoder and the engine disagree with the weights, and fail deep inside or score wrong.
    """
    try:
        check_threshold(card["threshold"], f"model card {cpath}")
    except ValueError as err:
        raise ModelError(str(err)) from None
    if not isinstance(card["config"], dict):
        raise ModelError(f"model card {cpath}: 'config' is not a JSON object of model settings")
    try:
        resolve_config(card_settings(card["config"]))
    except ValueError as err:
        raise ModelError(f"model card {cpath}: {err}") from None
    keras_config = _keras_config(path)
    if keras_config is not None:
        wrong = disagreements(card["config"], keras_config)
        if wrong:
            raise ModelError(
                f"model {path}: its card {cpath.name} disagrees with the network in the file: "
                + ", ".join(wrong)
                + "; was the card edited? Restore it or retrain"
            )


def _keras_config(path: Path) -> dict[str, Any] | None:
    """The network description inside a ``.keras`` file (a zip), or None if it cannot be read.

    A file that is not a Keras archive is reported when the network is loaded.
    """
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            loaded = json.loads(zf.read("config.json"))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        return None
    return loaded if isinstance(loaded, dict) else None


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "NA" if value is None else str(value)


def card_summary(card: dict[str, Any], path: Path) -> str:
    """A few lines on a checked model (what ``rnaigloo model-info`` prints by default)."""
    m = card.get("validation_metrics", {})
    data, training = card.get("training_data", {}), card.get("training", {})
    return (
        f"{path}\n  SHA-256 {card['sha256']} (checked)\n  threshold {card['threshold']:.4f}\n"
        f"  trained on {data.get('coding')} coding / {data.get('noncoding')} non-coding transcripts, seed "
        f"{training.get('seed')}\n  validation MCC {m.get('mcc', float('nan')):.4f}, "
        f"AUROC {m.get('auroc') or float('nan'):.4f}\n"
        f"  architecture {card['architecture']['version']}, encoding {card['encoding']['version']}, "
        f"{len(card['probes']['scores'])} probe scores\n"
    )


def card_markdown(card: dict[str, Any]) -> str:
    """The model card as Markdown (what ``rnaigloo model-info --markdown`` prints)."""
    lines = [f"### Model card: {card.get('name', card.get('model_file', 'model'))}", ""]
    data = card.get("training_data", {})
    training = card.get("training", {})
    rows = [
        ("file", f"`{card.get('model_file')}`"),
        ("SHA-256", f"`{card.get('sha256')}`"),
        ("made by", f"rnaigloo {card.get('rnaigloo_version')} on {card.get('created', '?')}"),
        ("threshold", f"{_fmt(card.get('threshold'))} ({card.get('threshold_rule', '')})"),
        ("training data", ", ".join(f"`{Path(f).name}` ({n})" for f, n in data.get("files", {}).items())),
        (
            "split",
            f"train {data.get('train', {}).get('coding')} coding / {data.get('train', {}).get('noncoding')} non-coding; "
            f"validation {data.get('validation', {}).get('coding')} / {data.get('validation', {}).get('noncoding')} "
            f"({data.get('split', '')})",
        ),
        (
            "training",
            f"seed {training.get('seed')}, {training.get('epochs_run')} epochs (best {training.get('best_epoch')}), "
            f"batch {training.get('batch_size')}, patience {training.get('patience')}, {training.get('device')}, "
            f"{training.get('precision', 'float32')}",
        ),
        ("settings", ", ".join(f"{k}={v}" for k, v in card.get("config", {}).items())),
        ("encoding", f"version {card.get('encoding', {}).get('version')}, {card.get('encoding', {}).get('n_features')} features"),
        ("versions", ", ".join(f"{k} {v}" for k, v in card.get("versions", {}).items())),
    ]
    cal = card.get("calibration")
    if cal:
        rows.insert(
            4,
            (
                "calibration",
                f"temperature {_fmt(cal.get('temperature'))}, fitted on the validation set: Brier "
                f"{_fmt(cal.get('brier_before'))} -> {_fmt(cal.get('brier_after'))}, expected calibration error "
                f"{_fmt(cal.get('ece_before'))} -> {_fmt(cal.get('ece_after'))}",
            ),
        )
    lines += ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(lines) + "\n" + metrics_markdown(card)


def metrics_markdown(card: dict[str, Any]) -> str:
    """The figures of a card (or a model pair's file) as one Markdown table: validation,
    held-out by length, the other held-out sets, then their descriptions."""
    lines: list[str] = []
    metric_sets = [("validation", card.get("validation_metrics"))]
    held_out = card.get("held_out_metrics") or {}
    metric_sets += [(f"held-out test, {name}", m) for name, m in held_out.get("by_length", {}).items()]
    other = card.get("other_held_out_metrics") or {}
    metric_sets += list(other.get("sets", {}).items())
    metric_sets = [(label, m) for label, m in metric_sets if m]
    if not metric_sets:
        return ""
    names = ("accuracy", "sensitivity", "specificity", "precision", "f1", "mcc", "auroc", "auprc", "brier")
    lines += ["", "| data | n | " + " | ".join(names) + " |", "|---" * (len(names) + 2) + "|"]
    for label, m in metric_sets:
        if m:
            lines.append(f"| {label} | {m.get('n', '')} | " + " | ".join(_fmt(m.get(k)) for k in names) + " |")
    for section in (held_out, other):
        if section.get("description"):
            lines += ["", section["description"]]
    return "\n".join(lines) + "\n"
