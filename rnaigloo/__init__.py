"""rnaigloo: coding potential of RNA transcripts with IGLOO neural networks.

Python API::

    from rnaigloo import Classifier, read_fasta
    clf = Classifier.load()              # the bundled human model
    for pred in clf.predict(read_fasta("transcripts.fa")):
        print(pred.record.id, pred.score, pred.coding)

The heavy parts (TensorFlow) load only when a classifier is created.
"""

__version__ = "0.1.0"

__all__ = ["Classifier", "InputError", "ModelError", "RnaiglooError", "__version__", "read_fasta"]


def __getattr__(name: str):
    # Lazy: importing rnaigloo must not import TensorFlow.
    if name == "Classifier":
        from rnaigloo.classify.classifier import Classifier

        return Classifier
    if name == "read_fasta":
        from rnaigloo.io.fasta import read_fasta

        return read_fasta
    if name in ("InputError", "ModelError", "RnaiglooError"):
        from rnaigloo import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'rnaigloo' has no attribute {name!r}")
