"""The tf.data input pipeline over encoded transcripts, and scoring of encoded rows."""

from __future__ import annotations

import numpy as np

from rnaigloo.architecture import FEATURES, NUCLEOTIDES, PROTEINS
from rnaigloo.encoding.encoder import encode_sequences
from rnaigloo.encoding.tables import ENCODING_VERSION
from rnaigloo.training.augment import crop_flanks, random_piece


def make_dataset(
    enc, y, idx, weights, batch_size, seed, epochs, first_epoch, sequences=None, augment=0.0, fragments=0.0,
    version=ENCODING_VERSION, fragments_from=0, fragment_weight=1.0, hexamer_table=None,
):  # fmt: skip
    """A tf.data pipeline over the rows ``idx`` of the encoded arrays.

    ``weights`` holds a training weight for every row of the arrays (None: all 1).

    Training (``epochs`` given): epoch ``e`` visits the rows in the order of a
    permutation seeded by ``(seed, e)``, so a resumed run sees the same batches as an
    uninterrupted one. With ``augment`` > 0, each transcript is cropped
    (:func:`crop_flanks`) with that probability in each epoch, drawn from a generator
    seeded by ``(seed, epoch, row)``, and encoded again; with ``fragments`` > 0, with
    that probability (drawn from the same generator, after cropping's share) it is
    replaced by a window or a 5'/3' truncation (:func:`random_piece`) when it has at least
    ``fragments_from`` nt, and weighs ``fragment_weight`` times its row's weight; the
    pieces are encoded with encoding ``version`` (and ``hexamer_table``), as the rows were.
    Validation (``epochs`` None):
    the rows in order, once.
    """
    import tensorflow as tf

    nuc, prot, feats = enc.nucleotides, enc.proteins, enc.features
    w = np.ones(len(y), dtype=np.float32) if weights is None else np.asarray(weights, dtype=np.float32)

    def gather(rows, epoch):
        inputs = enc.model_inputs(rows)
        n, p, f = inputs[NUCLEOTIDES], inputs[PROTEINS], inputs[FEATURES]
        ww = w[rows]
        if augment > 0 or fragments > 0:
            cropped, where = [], []
            for i, row in enumerate(rows):
                rng = np.random.default_rng([seed, int(epoch), int(row)])
                u = rng.random()
                if u < augment:
                    cropped.append(crop_flanks(sequences[row], enc.orfs[row], rng))
                    where.append(i)
                elif u < augment + fragments and len(sequences[row]) >= fragments_from:
                    cropped.append(random_piece(sequences[row], enc.orfs[row], bool(y[row] > 0.5), rng))
                    where.append(i)
                    ww[i] *= fragment_weight
            if cropped:
                again = encode_sequences(cropped, nuc.shape[1], prot.shape[1], version, hexamer_table)
                n[where], p[where], f[where] = again.nucleotides, again.proteins, again.features
        return n, p, f, y[rows], ww

    def to_inputs(rows, epoch):
        n, p, f, yy, ww = tf.numpy_function(
            gather, [rows, epoch], [tf.int32, tf.int32, tf.float32, tf.float32, tf.float32]
        )
        n.set_shape((None, nuc.shape[1]))
        p.set_shape((None, prot.shape[1]))
        f.set_shape((None, feats.shape[1]))
        yy.set_shape((None,))
        ww.set_shape((None,))
        return {NUCLEOTIDES: n, PROTEINS: p, FEATURES: f}, yy, ww

    if epochs is None:
        rows = tf.data.Dataset.from_tensor_slices(idx.astype(np.int64)).batch(batch_size)
        rows = rows.map(lambda r: (r, tf.constant(-1, tf.int64)))
    else:
        epoch_ids = np.arange(first_epoch, epochs, dtype=np.int64)
        orders = np.stack([idx[np.random.default_rng([seed, e]).permutation(len(idx))] for e in epoch_ids])
        rows = tf.data.Dataset.from_tensor_slices((epoch_ids, orders.astype(np.int64))).flat_map(
            lambda e, order: tf.data.Dataset.from_tensor_slices(order).batch(batch_size).map(lambda r: (r, e))
        )
    return rows.map(to_inputs, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(tf.data.AUTOTUNE)


# Rows scored at a time after training. Activations grow with it: 1,024 rows of the
# default network took ~780 MB, the peak of the whole run; 128 take ~100 MB, no slower.
PREDICT_ROWS = 128


def predict_rows(model, enc, idx) -> np.ndarray:
    """Scores of the rows ``idx`` of the encoded arrays, in order, :data:`PREDICT_ROWS` at a time."""
    out = []
    for start in range(0, len(idx), PREDICT_ROWS):
        rows = idx[start : start + PREDICT_ROWS]
        out.append(np.asarray(model(enc.model_inputs(rows), training=False)).reshape(-1))
    return np.concatenate(out) if out else np.zeros(0)

