"""The training loop: epochs of mini-batches, taken in order.

::

    for epoch in range(epochs):
        for X_b, y_b in batches(X, y, batch_size):       # in order, never shuffled
            loss_b = L(model(X_b), y_b)                    # the loss before this update
            w = w - learning_rate * dL/dw                  # (or the lesson's optimizer)
        losses[epoch] = sum(loss_b * len(X_b)) / N         # the epoch's mean loss per sample

``batch_size=None`` is full batch, one step per epoch (how the from-scratch
lessons train); ``batch_size=1`` is the perceptron's per-sample updates. The
last batch of an epoch may be smaller than the others.

PyTorch: the same loop over ``DataLoader(TensorDataset(X, y), batch_size,
shuffle=False)`` with ``opt.zero_grad(); loss.backward(); opt.step()``.
Keras 3: ``model.fit(X, y, batch_size=..., epochs=..., shuffle=False)``, whose
``history["loss"]`` is the same batch-size-weighted mean of the losses before
each update.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from .mlp import MLP
from .optimizers import Optimizer


def batches(X: np.ndarray, y: np.ndarray, batch_size: int | None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(X_b, y_b) for consecutive slices of ``batch_size`` rows; the whole set when ``batch_size`` is None."""
    n = X.shape[0]
    if batch_size is None:
        yield X, y
        return
    if not (isinstance(batch_size, (int, np.integer)) and batch_size >= 1):
        raise ValueError(
            f"batches: expected a positive integer batch_size or None. Received: batch_size={batch_size!r}"
        )
    for start in range(0, n, batch_size):
        yield X[start:start + batch_size], y[start:start + batch_size]


def fit(
    model: MLP,
    X: np.ndarray,
    y: np.ndarray,
    optimizer: Optimizer,
    epochs: int,
    batch_size: int | None = None,
    on_epoch_end: Callable[[int, MLP], None] | None = None,
) -> np.ndarray:
    """Train ``model`` in place; return the loss of every epoch, shape (epochs,).

    ``on_epoch_end(epoch, model)`` is called after each epoch (epoch counts from 1),
    for example to keep a copy of the parameters.
    """
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"fit: X and y must have the same number of rows. Received: X.shape={X.shape}, "
                         f"y.shape={y.shape}")
    losses = np.empty(int(epochs))
    for epoch in range(int(epochs)):
        total = 0.0
        for X_b, y_b in batches(X, y, batch_size):
            total += model.step(X_b, y_b, optimizer) * X_b.shape[0]
        losses[epoch] = total / X.shape[0]
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1, model)
    return losses
