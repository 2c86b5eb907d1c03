"""A lesson's whole training run in PyTorch: the loop every PyTorch tutorial writes.

::

    for epoch in range(epochs):
        for xb, yb in batches:                  # in order (DataLoader with shuffle=False)
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()

The batches are slices of one tensor, taken in order, as ``DataLoader(TensorDataset(X, y),
batch_size, shuffle=False)`` would yield them (the slicing avoids its per-batch
collation cost; the numbers are the same). The reference's loop is ``reference/training.py``.
"""

from __future__ import annotations

import numpy as np


def checkpoints(epochs: int, record_every: int | None) -> list[int]:
    """The epochs after which the parameters are kept: every ``record_every``-th, and the last."""
    marks = list(range(record_every, epochs + 1, record_every)) if record_every else []
    return sorted(set(marks) | {epochs}) if epochs > 0 else []


def fit(twin, X, y, optimizer: str, hyper: dict, epochs: int, batch_size=None, record_every=None):
    """Train ``twin`` in place. Returns ``(losses, snapshots)``.

    ``losses`` has shape (epochs,): each epoch's batch-size-weighted mean of the
    losses before each update (what Keras's ``fit`` reports). ``snapshots`` maps
    an epoch (counted from 1) to the parameters after it, in the reference layout.
    """
    opt = twin.make_optimizer(optimizer, hyper)
    x_all, y_all = twin._tensor(X), twin._tensor(y)
    n = x_all.shape[0]
    size = n if batch_size is None else int(batch_size)
    batches = [(x_all[i:i + size], y_all[i:i + size]) for i in range(0, n, size)]
    keep = set(checkpoints(epochs, record_every))
    losses = np.empty(epochs)
    snapshots = {}
    for epoch in range(1, epochs + 1):
        total = 0.0
        for xb, yb in batches:
            opt.zero_grad(set_to_none=True)
            trace = {}
            twin.model(xb, trace)
            last = twin.lesson.n_layers
            loss = twin.loss_fn(trace[f"z{last}"], trace[f"a{last}"], yb)
            loss.backward()
            opt.step()
            total += loss.item() * xb.shape[0]
        losses[epoch - 1] = total / n
        if epoch in keep:
            snapshots[epoch] = twin.get_params()
    return losses, snapshots
