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
docs/performance.md#keras-fit-per-call): the epochs between two parameter snapshots run inside one
``tf.function``, so thousands of full-batch epochs cost about a millisecond
each or less. ``history["loss"]`` is matched by the loss curve returned.

A lesson with dropout gets a new keep-mask at every step, handed in from NumPy
(``dropout_masks``, the same the reference and torch apply): its steps run one
``tf.function`` call each, from Python, with the masks set in between.
"""

from __future__ import annotations

import numpy as np

from .keras_twin import keras_dtype
from .torch_fit import checkpoints


def fit(twin, X, y, optimizer: str, hyper: dict, epochs: int, batch_size=None, record_every=None,
        dropout_masks=None):
    """Train ``twin`` in place. Returns ``(losses, snapshots)`` as ``torch_fit.fit`` does.

    ``dropout_masks(step, n_rows)`` (optional) gives the keep-masks of each step, counted from 0.
    """
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
    if dropout_masks is not None:
        return _fit_step_by_step(twin, opt, variables, batches, n, epochs, record_every, dropout_masks)

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


def _fit_step_by_step(twin, opt, variables, batches, n: int, epochs: int, record_every, dropout_masks):
    """``fit`` for a model with dropout: one compiled step per batch, its masks set before it from Python."""
    import tensorflow as tf

    @tf.function
    def train_step(xb, yb):
        with tf.GradientTape() as tape:
            loss = twin.loss_fn(yb, twin.model(xb, training=True))
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    keep = set(checkpoints(epochs, record_every))
    losses, snapshots, step = np.empty(epochs), {}, 0
    for epoch in range(1, epochs + 1):
        total = 0.0
        for xb, yb, rows in batches:
            twin.set_dropout_masks(dropout_masks(step, int(rows)))
            total += float(train_step(xb, yb)) * rows
            step += 1
        losses[epoch - 1] = total / n
        if epoch in keep:
            snapshots[epoch] = twin.get_params()
    return losses, snapshots
