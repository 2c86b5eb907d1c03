"""A lesson's whole training run in Keras 3: Keras's model, loss and optimizer, in one compiled loop.

::

    @tf.function                                  # traced once per run
    def run_epochs(n):
        for epoch in tf.range(n):
            for xb, yb in batches:                # the same batches every epoch (the training check's: in order)
                with tf.GradientTape() as tape:
                    loss = loss_fn(yb, model(xb, training=True))
                grads = tape.gradient(loss, variables)
                optimizer.apply_gradients(zip(grads, variables))

This is the step ``model.fit`` runs (``keras/src/backend/tensorflow/trainer.py``:
``train_step``), without ``fit``'s per-epoch overhead (55-80 ms per call here,
docs/performance.md#keras-fit-per-call): the epochs between two parameter snapshots run inside one
``tf.function``, so thousands of full-batch epochs cost about a millisecond
each or less. ``history["loss"]`` is matched by the loss curve returned.

This compiled loop over the whole run is itself what the ``training`` check tests on
Keras, and it is not the twin's step-by-step loop (``Twin.train``) repeated: TensorFlow's
graph optimizer rewrites the whole run's graph, so the same steps taken one
``tf.function`` call at a time end a few last bits elsewhere (measured: spiral-batchnorm's
parameters 3.8e-15 apart after 200 float64 epochs, and 2.7e-3 in float32; the loss curves
of sensor and keras-4-64-32-1 one or two ulps apart, their parameters equal). A run that
cannot be one graph takes the one step-by-step path, ``twin.fit`` over ``Twin.train``: a
lesson with dropout (a new keep-mask every step, handed in from NumPy: ``dropout_masks``,
the same the reference and torch apply) and batches that change from epoch to epoch.
"""

from __future__ import annotations

import numpy as np

from .keras_config import keras_dtype
from .twin import checkpoints
from .twin import fit as fit_step_by_step


def fit(twin, X, y, optimizer: str, hyper: dict, epochs: int, batches, record_every=None, dropout_masks=None):
    """Train ``twin`` in place. Returns ``(losses, snapshots)`` as ``twin.fit`` does.

    ``batches.epoch(e)`` gives epoch ``e``'s index arrays (a ``reference.MiniBatches``);
    ``dropout_masks(step, n_rows)`` (optional) gives the keep-masks of each step, counted from 0.
    """
    if dropout_masks is not None or batches.shuffle:
        return fit_step_by_step(twin, X, y, optimizer, hyper, epochs, batches, record_every, dropout_masks)
    run_epochs = compiled_epochs(twin, X, y, optimizer, hyper, batches.epoch(0))
    losses, snapshots, done = [], {}, 0
    for mark in checkpoints(epochs, record_every):
        losses.append(np.asarray(run_epochs(mark - done)))
        done = mark
        snapshots[mark] = twin.get_params()
    return (np.concatenate(losses) if losses else np.empty(0)), snapshots


def compiled_epochs(twin, X, y, optimizer: str, hyper: dict, epoch):
    """``run_epochs(n)``: n epochs over the index arrays ``epoch``, one ``tf.function``; their loss curve.

    Each epoch's loss is the batch-size-weighted mean of its steps' losses, summed in the model's dtype.
    """
    import tensorflow as tf

    variables = list(twin._named.values())
    opt = twin.make_optimizer(optimizer, hyper)
    with keras_dtype(twin.dtype):
        opt.build(variables)  # the optimizer's own variables exist before the tf.function traces
    X, y = np.asarray(X), np.asarray(y)
    batches = [(twin._tensor(X[idx]), twin._tensor(y[idx]), float(len(idx))) for idx in epoch]
    n, dtype = len(X), twin.dtype

    @tf.function
    def run_epochs(n_epochs):
        curve = tf.TensorArray(dtype, size=n_epochs)
        for e in tf.range(n_epochs):
            total = tf.constant(0.0, dtype)
            for xb, yb, rows in batches:  # a Python loop: unrolled, one step per batch
                with tf.GradientTape() as tape:
                    loss = twin.loss_fn(yb, twin.model(xb, training=True))
                grads = tape.gradient(loss, variables)
                opt.apply_gradients(zip(grads, variables))
                total += tf.cast(loss, dtype) * rows
            curve = curve.write(e, total / n)
        return curve.stack()

    return lambda n_epochs: run_epochs(tf.constant(n_epochs))
