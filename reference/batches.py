"""Mini-batches: which samples each training step sees, the same for NumPy, PyTorch and Keras.

An epoch visits every sample once, in an order drawn anew for each epoch, cut
into consecutive batches of ``batch_size``; the last batch of an epoch keeps
what is left (it may be smaller). ``batch_size=None`` is full-batch gradient
descent: every step sees all the samples, in their order, as the
from-scratch lessons train. For epoch ``e`` (counted from 0)::

    order = np.random.default_rng([seed, e]).permutation(n_samples)   # shuffle=True
    order = np.arange(n_samples)                                       # shuffle=False
    batches = [order[i : i + batch_size] for i in range(0, n_samples, batch_size)]

The frameworks' own loaders do the same thing with their own random numbers:
torch ``DataLoader(TensorDataset(X, y), batch_size, shuffle=True)`` (``drop_last=False``)
and Keras ``model.fit(X, y, batch_size, shuffle=True)``. nnparity draws the order
here, once, and gives the very same index arrays to all three, so the three
training runs see the same batches in the same order.
"""

from __future__ import annotations

import numpy as np


class MiniBatches:
    """The index arrays of every step: ``batches.epoch(e)``, or ``batches.take(k)`` for the first k steps.

    Each index array has shape ``(batch,)``; a batch is ``X[idx], y[idx]``.
    """

    def __init__(self, n_samples: int, batch_size: int | None = None, *, shuffle: bool = True, seed: int = 0):
        if not (isinstance(n_samples, (int, np.integer)) and n_samples > 0):
            raise ValueError(f"MiniBatches: expected a positive number of samples. Received: n_samples={n_samples!r}")
        if batch_size is not None and not (isinstance(batch_size, (int, np.integer)) and batch_size > 0):
            raise ValueError(f"MiniBatches: expected a positive integer batch_size or None (full batch). "
                             f"Received: batch_size={batch_size!r}")
        self.n_samples = int(n_samples)
        self.batch_size = None if batch_size is None else min(int(batch_size), self.n_samples)
        self.shuffle = bool(shuffle) and batch_size is not None
        self.seed = int(seed)

    @property
    def steps_per_epoch(self) -> int:
        """ceil(n_samples / batch_size): the number of batches in one epoch (1 for full batch)."""
        if self.batch_size is None:
            return 1
        return -(-self.n_samples // self.batch_size)

    def epoch(self, e: int) -> list[np.ndarray]:
        """The batches of epoch ``e``, in order."""
        if self.batch_size is None:
            return [np.arange(self.n_samples)]
        if self.shuffle:
            order = np.random.default_rng([self.seed, e]).permutation(self.n_samples)
        else:
            order = np.arange(self.n_samples)
        return [order[i:i + self.batch_size] for i in range(0, self.n_samples, self.batch_size)]

    def take(self, steps: int) -> list[np.ndarray]:
        """The batches of the first ``steps`` training steps, running on into later epochs as needed."""
        if not (isinstance(steps, (int, np.integer)) and steps >= 0):
            raise ValueError(f"MiniBatches.take: expected a number of steps >= 0. Received: steps={steps!r}")
        out: list[np.ndarray] = []
        e = 0
        while len(out) < steps:
            out.extend(self.epoch(e))
            e += 1
        return out[:steps]

    def __repr__(self) -> str:
        return (f"MiniBatches(n_samples={self.n_samples}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, seed={self.seed})")
