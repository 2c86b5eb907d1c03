"""What every twin offers (the ``Twin`` protocol), and the whole training run built on its one loop.

A twin is a lesson built in one framework (``torch_twin.Twin``, ``keras_twin.Twin``),
loaded with the reference's weights. Every twin has the same operations, in the same
order, under the same names; parameters and gradients go in and come out in the
reference layout (``layout.py``), as NumPy arrays.

Each twin has one training loop, ``train``: one optimizer step per batch of indices,
from the current weights. ``step`` is one ``train`` step on all the data, and ``fit``
below (the ``training`` check's whole run, ``conformance/checks/training.py``) is ``train`` over
every epoch's batches: torch's whole run, and Keras's where its run cannot be one compiled
graph (``keras_fit.py``: the compiled loop over the whole run is what Keras's side tests)::

    for epoch in range(epochs):
        for idx in batches.epoch(epoch):          # the index arrays the caller hands in
            loss = L(model(X[idx]), y[idx])       # the loss before this update
            optimizer step
        losses[epoch] = sum(loss * len(idx)) / N  # the epoch's mean loss per sample
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Protocol

import numpy as np

# (step k counted from 1, the loss of step k before its update) -> None
OnStep = Callable[[int, float], None]
# (step counted from 0, rows in its batch) -> the keep-masks {"dropout1": (rows, units), ...} of that step
DropoutMasks = Callable[[int, int], dict]


class Twin(Protocol):
    """The operations every twin has, under the same names (``torch_twin.Twin``, ``keras_twin.Twin``)."""

    framework: str  # "torch", "keras", "keras-jax" or "keras-torch"
    lesson: object  # the conformance.lessons.Lesson it was built from
    dtype: str  # "float64" or "float32"

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        """Load parameters (and BatchNorm's running statistics) given in the reference layout."""

    def get_params(self) -> dict[str, np.ndarray]:
        """Every parameter (and BatchNorm's running statistics), in the reference layout."""

    def set_dropout_masks(self, masks: dict[str, np.ndarray]) -> None:
        """The boolean keep-masks {"dropout1": (N, units), ...} that every training call applies."""

    def forward(self, X, training: bool = True) -> dict[str, np.ndarray]:
        """Every stage of every layer: z_l, a_l (and bn_l, dropout_l)."""

    def loss(self, X, y) -> float:
        """The loss on (X, y), in training mode."""

    def gradients(self, X, y) -> dict[str, np.ndarray]:
        """dL/dparameter for every parameter, and dL/dX ("X")."""

    def dz(self, X, y) -> dict[str, np.ndarray]:
        """dL/dz_l of every layer: {"dz1": ..., ...}."""

    def make_optimizer(self, name: str, hyper: dict):
        """The framework's optimizer ``name`` from Keras-named hyper-parameters."""

    def train(self, X, y, optimizer: str, hyper: dict, batches: Sequence[np.ndarray], record: Collection[int],
              learning_rates=None, dropout_masks: DropoutMasks | None = None,
              on_step: OnStep | None = None) -> dict[int, dict[str, np.ndarray]]:
        """The one training loop: one step per index array in ``batches``, with a fresh optimizer;
        {k: the parameters after step k} for every k in ``record``; ``on_step(k, loss)`` after each step."""

    def step(self, X, y, optimizer: str, hyper: dict) -> dict[str, np.ndarray]:
        """One optimizer step on all of (X, y) from the current weights; the parameters after it."""

    def fit(self, X, y, optimizer: str, hyper: dict, epochs: int, batches, record_every: int | None = None,
            dropout_masks: DropoutMasks | None = None) -> tuple[np.ndarray, dict[int, dict]]:
        """The whole training run, ``fit`` below: (loss curve, {epoch: parameters after it})."""


def checkpoints(epochs: int, record_every: int | None) -> list[int]:
    """The epochs after which the parameters are kept: every ``record_every``-th, and the last."""
    marks = list(range(record_every, epochs + 1, record_every)) if record_every else []
    return sorted(set(marks) | {epochs}) if epochs > 0 else []


def epoch_losses(step_losses: Sequence, epoch_rows: Sequence[Sequence[int]], n_samples: int) -> np.ndarray:
    """Each epoch's batch-size-weighted mean of its steps' losses: sum(loss * rows) / n_samples.

    The sum is taken in the type the twin reports its losses in: torch's ``loss.item()`` is
    a Python float, summed in float64 as a PyTorch loop's ``running_loss += loss.item() * len(xb)``;
    Keras's loss is a NumPy scalar of the model's dtype, summed in that dtype as Keras's loss
    tracker (a ``keras.metrics.Mean``) sums it. Shape (epochs,), of that type.
    """
    kind = np.result_type(step_losses[0]).type if len(step_losses) else np.float64
    losses, k = [], 0
    for rows in epoch_rows:
        total = kind(0)
        for r in rows:
            total += kind(step_losses[k]) * kind(r)
            k += 1
        losses.append(total / kind(n_samples))
    return np.asarray(losses, dtype=kind)


def fit(twin: Twin, X, y, optimizer: str, hyper: dict, epochs: int, batches, record_every: int | None = None,
        dropout_masks: DropoutMasks | None = None) -> tuple[np.ndarray, dict[int, dict]]:
    """Train ``twin`` in place for ``epochs`` epochs through its one loop, ``twin.train``.

    ``batches.epoch(e)`` gives epoch ``e``'s index arrays (a ``reference.MiniBatches``: the
    ``training`` check hands in the lesson's batches in order, ``conformance/checks/training.py``).
    Returns ``(losses, snapshots)``: ``losses`` has shape (epochs,), each epoch's mean loss
    before each update (``epoch_losses``, what Keras's ``fit`` reports); ``snapshots`` maps an
    epoch (counted from 1) to the parameters after it, for every epoch of ``checkpoints``.
    ``dropout_masks(step, n_rows)`` gives the keep-masks of each step, counted from 0 over the
    whole run (``reference/training.py`` counts the same way).
    """
    per_epoch = [batches.epoch(e) for e in range(epochs)]
    ends = np.cumsum([len(epoch) for epoch in per_epoch], dtype=np.int64)  # steps done at each epoch's end
    marks = checkpoints(epochs, record_every)
    step_losses = []
    after = twin.train(X, y, optimizer, hyper, [idx for epoch in per_epoch for idx in epoch],
                       record={int(ends[m - 1]) for m in marks}, dropout_masks=dropout_masks,
                       on_step=lambda k, loss: step_losses.append(loss))
    losses = epoch_losses(step_losses, [[len(idx) for idx in epoch] for epoch in per_epoch], len(X))
    return losses, {m: after[int(ends[m - 1])] for m in marks}
