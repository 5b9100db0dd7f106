"""Model files: a Keras ``.keras`` file and its JSON model card beside it.

``NAME.keras`` holds the network (architecture and weights); ``NAME.card.json`` holds
everything needed to use and judge it: the format version, the rnaigloo and library
versions that made it, the model config (input lengths included), the decision
threshold, the training data and metrics, and the SHA-256 of the ``.keras`` file. The
loader checks that hash before it reads the weights.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from rnaigloo import __version__
from rnaigloo.architecture import ARCHITECTURE_VERSION
from rnaigloo.encoding.encoder import encode_sequences
from rnaigloo.encoding.tables import ENCODING_VERSION, ENCODING_VERSIONS, N_FEATURES
from rnaigloo.errors import ModelError
from rnaigloo.io.files import atomic_path, write_json_atomic
from rnaigloo.network import probes
from rnaigloo.network.config import card_settings, check_threshold, disagreements, resolve_config

# 2: the card holds the architecture version and the probe scores (rnaigloo 0.2).
FORMAT_VERSION = 2
DEFAULT_MODEL_NAME = "multispecies.keras"


def card_path(model_path: str | os.PathLike) -> Path:
    """``NAME.card.json`` beside ``NAME.keras``."""
    p = Path(model_path)
    return p.with_name(p.stem + ".card.json")


def sha256_of(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def bundled_model_dir() -> Path:
    """Where the bundled models are: inside the installed package, or ``models/`` in a checkout."""
    return default_model_path().parent


def resolve_model(name_or_path: str | os.PathLike) -> Path:
    """A model file from its path, or from a bundled model's name (``multispecies``, ``human``).

    A path that exists wins; a bare name without ``.keras`` and without a directory is
    looked up among the bundled models.

    Raises:
        ModelError: neither a file nor a bundled model's name.
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    bundled = bundled_model_dir() / f"{name_or_path}.keras"
    if os.sep not in str(name_or_path) and path.suffix != ".keras" and bundled.is_file():
        return bundled
    names = ", ".join(sorted(p.stem for p in bundled_model_dir().glob("*.keras"))) or "none"
    raise ModelError(f"model file not found: {name_or_path} (nor a bundled model of that name; bundled: {names})")


def default_model_path() -> Path:
    """The bundled model: inside the installed package, or ``models/`` in a checkout."""
    try:
        packaged = Path(str(resources.files("rnaigloo.models") / DEFAULT_MODEL_NAME))
        if packaged.is_file():
            return packaged
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[2] / "models" / DEFAULT_MODEL_NAME


def library_versions() -> dict[str, str]:
    """Versions worth recording next to a model or a report."""
    import platform

    import keras
    import numpy
    import tensorflow as tf

    return {
        "rnaigloo": __version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
    }


def save_model(model, path: str | os.PathLike, card: dict[str, Any]) -> dict[str, Any]:
    """Save ``model`` to ``path`` (a ``.keras`` file) and its card beside it.

    The card gets ``format_version``, ``model_file``, ``sha256``, the architecture
    version and the Keras scores of the probe transcripts (:mod:`rnaigloo.network.probes`)
    filled in.

    Returns:
        The card as written.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ModelError(f"model file name must end in .keras, found {path.name!r}")
    version = card.get("encoding", {}).get("version", ENCODING_VERSION)
    probe_entry = probes.card_entry(lambda seqs: keras_scores(model, card["config"], seqs, version))
    with atomic_path(path, suffix=".keras") as tmp:
        model.save(tmp)
        full = {
            "format_version": FORMAT_VERSION,
            "model_file": path.name,
            "sha256": sha256_of(tmp),
            **card,
            "architecture": {"version": ARCHITECTURE_VERSION},
            "probes": probe_entry,
        }
    write_json_atomic(card_path(path), full)
    return full


@dataclass
class LoadedModel:
    """A model whose card has been checked; the network itself loads on first use."""

    card: dict[str, Any]
    path: Path
    _keras: Any = field(default=None, repr=False)
    _numpy: Any = field(default=None, repr=False)

    @property
    def config(self) -> dict[str, Any]:
        """The card's settings; one newer than the model (0.1's ``fragments``) reads as the model was trained."""
        return card_settings(self.card["config"])

    @property
    def threshold(self) -> float:
        return float(self.card["threshold"])

    @property
    def encoding_version(self) -> int:
        return int(self.card["encoding"]["version"])

    @property
    def temperature(self) -> float:
        """The calibration temperature (1.0 when the card has none)."""
        return float(self.card.get("calibration", {}).get("temperature", 1.0))

    @property
    def keras_model(self):
        """The Keras network (imports TensorFlow).

        Raises:
            ModelError: the file is not a Keras model.
        """
        if self._keras is None:
            import keras

            import rnaigloo.network.igloo  # noqa: F401 - registers the custom layer for deserialisation

            try:
                self._keras = keras.saving.load_model(self.path, compile=False, safe_mode=True)
            except Exception as err:  # Keras raises many types for a bad file
                first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                raise ModelError(f"cannot load {self.path} as a Keras model: {first}") from None
            probes.verify(
                self.card,
                lambda seqs: keras_scores(self._keras, self.config, seqs, self.encoding_version),
                self.path.name,
                "TensorFlow",
            )
        return self._keras

    @property
    def numpy_network(self):
        """The same network evaluated with NumPy (see :mod:`rnaigloo.network.engine`)."""
        if self._numpy is None:
            from rnaigloo.network.engine import load_numpy_network

            network = load_numpy_network(self.path, self.config)
            probes.verify(
                self.card,
                lambda seqs: numpy_scores(network, self.config, seqs, self.encoding_version),
                self.path.name,
                "NumPy",
            )
            self._numpy = network
        return self._numpy


def keras_scores(
    model: Any, config: dict[str, Any], sequences: list[str], version: int = ENCODING_VERSION
) -> np.ndarray:
    """Scores of plain sequences by a Keras model (float32, no mixed precision, no calibration)."""
    inputs = encode_sequences(sequences, config["nuc_len"], config["prot_len"], version).model_inputs()
    return np.asarray(model(inputs, training=False), dtype=np.float64).reshape(-1)


def numpy_scores(
    network: Any, config: dict[str, Any], sequences: list[str], version: int = ENCODING_VERSION
) -> np.ndarray:
    """Scores of plain sequences by the NumPy engine (no calibration)."""
    return network.predict(encode_sequences(sequences, config["nuc_len"], config["prot_len"], version).model_inputs())


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
    try:
        card = json.loads(cpath.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise ModelError(f"model card {cpath} is not valid JSON: {err}") from None
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
    encoding = card["encoding"]
    if encoding.get("version") not in ENCODING_VERSIONS or encoding.get("n_features") != N_FEATURES:
        raise ModelError(
            f"model {path.name} was trained on encoding version {encoding.get('version')} "
            f"({encoding.get('n_features')} features); this rnaigloo {__version__} reads versions "
            f"{', '.join(map(str, ENCODING_VERSIONS))} ({N_FEATURES} features): retrain it or use the rnaigloo that made it"
        )
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


def load_model(path: str | os.PathLike | None = None) -> LoadedModel:
    """A model checked against its card (the bundled one when ``path`` is None).

    Only the card is read here; the network loads when first used.

    Raises:
        ModelError: see :func:`read_card`.
    """
    path = resolve_model(path) if path is not None else default_model_path()
    return LoadedModel(read_card(path), path)


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
    metric_sets = [("validation", card.get("validation_metrics"))]
    held_out = card.get("held_out_metrics") or {}
    metric_sets += [(f"held-out test, {name}", m) for name, m in held_out.get("by_length", {}).items()]
    other = card.get("other_held_out_metrics") or {}
    metric_sets += list(other.get("sets", {}).items())
    names = ("accuracy", "sensitivity", "specificity", "precision", "f1", "mcc", "auroc", "auprc", "brier")
    lines += ["", "| data | n | " + " | ".join(names) + " |", "|---" * (len(names) + 2) + "|"]
    for label, m in metric_sets:
        if m:
            lines.append(f"| {label} | {m.get('n', '')} | " + " | ".join(_fmt(m.get(k)) for k in names) + " |")
    for section in (held_out, other):
        if section.get("description"):
            lines += ["", section["description"]]
    return "\n".join(lines) + "\n"
