"""``fit``: epochs of mini-batches, taken in order, through ``MLP.train``; the loss curve.

::

    for epoch in range(epochs):
        batches = MiniBatches(N, batch_size, shuffle=False).epoch(epoch)   # in order, never shuffled
        model.train(X, y, optimizer, batches)          # one step per batch: loss_b, then the update
        losses[epoch] = sum(loss_b * len(batch)) / N   # the epoch's mean loss per sample

``batch_size=None`` is full batch, one step per epoch (how the from-scratch
lessons train); ``batch_size=1`` is the perceptron's per-sample updates. The
last batch of an epoch may be smaller than the others. A model with dropout
can be handed each step's keep-masks (``dropout_masks``), so that a framework
trained alongside applies the very same ones.

PyTorch: the same loop over ``DataLoader(TensorDataset(X, y), batch_size,
shuffle=False)`` with ``opt.zero_grad(); loss.backward(); opt.step()``.
Keras 3: ``model.fit(X, y, batch_size=..., epochs=..., shuffle=False)``, whose
``history["loss"]`` is the same batch-size-weighted mean of the losses before
each update.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from .batches import MiniBatches
from .mlp import MLP
from .optimizers import Optimizer


def batches(X: np.ndarray, y: np.ndarray, batch_size: int | None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(X_b, y_b) for one epoch's batches in order (``MiniBatches(N, batch_size, shuffle=False)``);
    the whole set itself when ``batch_size`` is None."""
    if batch_size is None:
        yield X, y
        return
    if not (isinstance(batch_size, (int, np.integer)) and batch_size >= 1):
        raise ValueError(
            f"batches: expected a positive integer batch_size or None. Received: batch_size={batch_size!r}"
        )
    for idx in MiniBatches(X.shape[0], batch_size, shuffle=False).epoch(0):
        yield X[idx], y[idx]


def _counted_over_the_run(dropout_masks, steps_before: int):
    """``dropout_masks`` as ``MLP.train`` calls it (steps counted from 0 within one call), for a
    call that starts after ``steps_before`` steps of the run."""
    if dropout_masks is None:
        return None
    return lambda step, n_rows: dropout_masks(steps_before + step, n_rows)


def fit(
    model: MLP,
    X: np.ndarray,
    y: np.ndarray,
    optimizer: Optimizer,
    epochs: int,
    batch_size: int | None = None,
    on_epoch_end: Callable[[int, MLP], None] | None = None,
    dropout_masks: Callable[[int, int], dict] | None = None,
) -> np.ndarray:
    """Train ``model`` in place; return the loss of every epoch, shape (epochs,).

    ``on_epoch_end(epoch, model)`` is called after each epoch (epoch counts from 1),
    for example to keep a copy of the parameters. ``dropout_masks(step, n_rows)``
    gives the keep-masks of each step (counted from 0 over the whole run), which are
    set on the model (``set_dropout_masks``) before that step.
    """
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"fit: X and y must have the same number of rows. Received: X.shape={X.shape}, "
                         f"y.shape={y.shape}")
    minibatches = MiniBatches(X.shape[0], batch_size, shuffle=False)
    losses = np.empty(int(epochs))
    for epoch in range(int(epochs)):
        epoch_batches = minibatches.epoch(epoch)
        step_losses: list[float] = []
        model.train(X, y, optimizer, epoch_batches, losses=step_losses,
                    dropout_masks=_counted_over_the_run(dropout_masks, epoch * len(epoch_batches)))
        losses[epoch] = sum(loss * len(idx) for loss, idx in zip(step_losses, epoch_batches)) / X.shape[0]
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1, model)
    return losses
