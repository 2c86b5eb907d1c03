"""A lesson's whole training run in Keras 3: Keras's model, loss and optimizer, in a compiled loop.

::

    @tf.function                                  # traced once per run
    def run_epochs(n):
        for epoch in tf.range(n):
            for xb, yb in batches:                # in order, as fit(..., shuffle=False)
                with tf.GradientTape() as tape:
                    loss = loss_fn(yb, model(xb, training=True))
                grads = tape.gradient(loss, variables)
                optimizer.apply_gradients(zip(grads, variables))

This is the step ``model.fit`` runs (``keras/src/backend/tensorflow/trainer.py``:
``train_step``), without ``fit``'s per-epoch overhead (55-80 ms per call here,
PERFORMANCE.md): the epochs between two parameter snapshots run inside one
``tf.function``, so thousands of full-batch epochs cost about a millisecond
each or less. ``history["loss"]`` is matched by the loss curve returned.
"""

from __future__ import annotations

import numpy as np

from .keras_twin import keras_dtype
from .torch_fit import checkpoints


def fit(twin, X, y, optimizer: str, hyper: dict, epochs: int, batch_size=None, record_every=None):
    """Train ``twin`` in place. Returns ``(losses, snapshots)`` as ``torch_fit.fit`` does."""
    import tensorflow as tf

    variables = list(twin._named.values())
    opt = twin.make_optimizer(optimizer, hyper)
    with keras_dtype(twin.dtype):
        opt.build(variables)  # the optimizer's own variables exist before the tf.function traces
    x_all, y_all = twin._tensor(X), twin._tensor(y)
    n = int(x_all.shape[0])
    size = n if batch_size is None else int(batch_size)
    batches = [(x_all[i:i + size], y_all[i:i + size], float(min(size, n - i))) for i in range(0, n, size)]
    dtype = twin.dtype

    @tf.function
    def run_epochs(n_epochs):
        curve = tf.TensorArray(dtype, size=n_epochs)
        for epoch in tf.range(n_epochs):
            total = tf.constant(0.0, dtype)
            for xb, yb, rows in batches:  # a Python loop: unrolled, one step per batch
                with tf.GradientTape() as tape:
                    loss = twin.loss_fn(yb, twin.model(xb, training=True))
                grads = tape.gradient(loss, variables)
                opt.apply_gradients(zip(grads, variables))
                total += tf.cast(loss, dtype) * rows
            curve = curve.write(epoch, total / n)
        return curve.stack()

    losses, snapshots, done = [], {}, 0
    for mark in checkpoints(epochs, record_every):
        losses.append(np.asarray(run_epochs(tf.constant(mark - done))))
        done = mark
        snapshots[mark] = twin.get_params()
    return (np.concatenate(losses) if losses else np.empty(0)), snapshots
