"""rnaigloo: coding potential of RNA transcripts with IGLOO neural networks.

Python API::

    from rnaigloo import Classifier, read_fasta
    clf = Classifier.load()              # the bundled default (a model pair); or Classifier.load("my.keras")
    for pred in clf.predict(read_fasta("transcripts.fa")):
        print(pred.record.id, pred.score, pred.coding)

Importing rnaigloo is quick: the public names load on first use, and the default
(NumPy) engine never imports TensorFlow; training and ``engine="tensorflow"`` do.
"""

from rnaigloo._version import __version__

__all__ = ["Classifier", "InputError", "ModelError", "RnaiglooError", "__version__", "read_fasta"]


def __getattr__(name: str):
    # Lazy, so that ``import rnaigloo`` and ``rnaigloo --help`` stay instant.
    if name == "Classifier":
        from rnaigloo.classify.classifier import Classifier

        return Classifier
    if name == "read_fasta":
        from rnaigloo.io.fasta import read_fasta

        return read_fasta
    if name in ("InputError", "ModelError", "RnaiglooError"):
        import rnaigloo.errors

        return getattr(rnaigloo.errors, name)
    raise AttributeError(f"module 'rnaigloo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
