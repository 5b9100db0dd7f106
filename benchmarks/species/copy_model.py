"""Copy a trained model under another name, its card with it.

Usage: python benchmarks/species/copy_model.py SRC.keras DEST.keras

``rnaigloo train -o`` names the card after the file it writes; a model trained into a
scratch folder and then chosen for shipping is copied here byte for byte (same
SHA-256), and its card's ``model_file`` and ``name`` follow the new name. Everything
else in the card (settings, training record, calibration, metrics) is kept.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def copy_model(src: Path, dest: Path) -> None:
    from rnaigloo.io.files import write_json_atomic
    from rnaigloo.network.card import read_card
    from rnaigloo.network.paths import card_path, sibling_path

    card = read_card(src)  # checks the hash and the card format first
    if dest.suffix != ".keras":
        raise SystemExit(f"the copy's name must end in .keras, found {dest.name!r}")
    shutil.copyfile(src, dest)
    card["model_file"], card["name"] = dest.name, dest.stem
    write_json_atomic(card_path(dest), card)
    for kind in ("report", "plot"):
        report = sibling_path(src, kind)
        if report.is_file():
            shutil.copyfile(report, sibling_path(dest, kind))
    read_card(dest)
    print(f"copied {src} to {dest}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    copy_model(Path(sys.argv[1]), Path(sys.argv[2]))
