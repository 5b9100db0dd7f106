"""Re-save a model made before card format 2 with the current card format.

Usage: python benchmarks/species/resave.py MODEL.keras [MODEL.keras ...]

Card format 2 adds the architecture version and the Keras scores of the probe
transcripts (``rnaigloo.network.probes``). This loads each model's weights with Keras,
checks that the network's layers are the ones this rnaigloo builds, and saves it again
in place with its card's content (threshold, calibration, data, metrics) kept and the
new fields filled in. The weights do not change.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def resave(path: Path) -> None:
    import keras

    import rnaigloo.network.igloo  # noqa: F401 - registers the custom layer
    from rnaigloo.network.model import build_model
    from rnaigloo.network.paths import card_path
    from rnaigloo.network.saving import save_model

    card = json.loads(card_path(path).read_text())
    old = keras.saving.load_model(path, compile=False, safe_mode=True)
    model = build_model(card["config"], card["encoding"]["n_features"])
    names = sorted(w.path for w in model.weights)
    if names != sorted(w.path for w in old.weights):
        raise SystemExit(f"{path}: its layers are not the ones this rnaigloo builds")
    model.set_weights(old.get_weights())
    for key in ("format_version", "model_file", "sha256", "architecture", "probes"):
        card.pop(key, None)
    save_model(model, path, card)
    print(f"re-saved {path}")


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        resave(Path(arg))
