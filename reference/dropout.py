"""Dropout: during training, zero each activation with probability ``rate`` and scale the rest up.

"Inverted" dropout, the form PyTorch and Keras both use: the scaling happens at
training time, so inference is the identity and needs no rescaling::

    keep = rng.random(a.shape) >= rate        # True with probability 1 - rate
    scale = dtype(1 / (1 - rate))             # rounded to the working dtype, as both frameworks do
    y = a * (keep * scale)                    # training
    y = a                                     # inference
    da = dy * (keep * scale)                  # backward: the same mask, the same scale

Every kept unit is multiplied by ``1 / (1 - rate)`` so that the expected value
of ``y`` equals ``a``: E[y] = (1 - rate) * a / (1 - rate) = a.

Shapes: ``a``, ``keep`` and ``y`` are all ``(N, units)``: one independent draw per
sample and unit.

=============  ==========================================  ==========================================
               PyTorch                                     Keras 3
=============  ==========================================  ==========================================
layer          ``nn.Dropout(p=rate)``                      ``keras.layers.Dropout(rate)``
training mode  ``model.train()`` (the default)             ``model(x, training=True)``, ``fit``
inference      ``model.eval()``                            ``training=False`` (the default), ``predict``
random mask    ``torch.manual_seed`` (global generator)    the layer's own ``SeedGenerator(seed)``
=============  ==========================================  ==========================================

The two frameworks draw different masks from different generators, so nnparity
compares them with *one shared mask*: drawn here in NumPy (``draw_mask``) and
multiplied explicitly in all three (docs/conventions.md#dropout: measured exact in
float32 and float64). Each framework's own random dropout is checked separately,
for its keep rate and its scaling, and so is this reference's own draw (conformance/tests/test_dropout_statistics.py).
"""

from __future__ import annotations

import numpy as np


def draw_mask(shape: tuple[int, ...], rate: float, rng: np.random.Generator) -> np.ndarray:
    """A boolean keep-mask of ``shape``: True (kept) with probability ``1 - rate``."""
    return rng.random(shape) >= rate


def scaled_mask(keep: np.ndarray, rate: float, dtype) -> np.ndarray:
    """keep * (1 / (1 - rate)) in ``dtype``, the scale rounded to ``dtype`` first: the multiplier all three apply."""
    dtype = np.dtype(dtype)
    return (keep * dtype.type(1 / (1 - rate))).astype(dtype)


class Dropout:
    """Inverted dropout with rate ``rate`` (the fraction of units dropped), in [0, 1).

    ``mask``, when set (``set_mask``), is used by every training-mode ``forward``
    instead of a fresh draw from ``rng``: that is how the reference, PyTorch and
    Keras apply the very same mask.
    """

    def __init__(self, rate: float, rng: np.random.Generator | None = None):
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout: expected 0 <= rate < 1. Received: rate={rate}")
        self.rate = float(rate)
        self.rng = rng if rng is not None else np.random.default_rng()
        self.mask: np.ndarray | None = None  # a fixed keep-mask, or None: draw one per forward
        self._scaled_mask = None

    def set_mask(self, mask: np.ndarray | None) -> None:
        """Use this boolean keep-mask (N, units) in every training forward; None: draw fresh ones."""
        if mask is not None:
            mask = np.asarray(mask)
            if mask.dtype != np.bool_:
                raise TypeError(f"Dropout.set_mask: expected a boolean keep-mask. Received: dtype={mask.dtype}")
        self.mask = mask

    def forward(self, a: np.ndarray, training: bool = True) -> np.ndarray:
        """a * keep / (1 - rate) in training; a itself in inference."""
        if not training or self.rate == 0:
            self._scaled_mask = None
            return a
        keep = self.mask if self.mask is not None else draw_mask(a.shape, self.rate, self.rng)
        if keep.shape != a.shape:
            raise ValueError(
                f"Dropout: the keep-mask has shape {keep.shape}, but the activations have shape {a.shape}"
            )
        self._scaled_mask = scaled_mask(keep, self.rate, a.dtype)
        return a * self._scaled_mask

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """dL/da = dL/dy * keep / (1 - rate): the same scaled mask as the forward (identity in inference)."""
        if self._scaled_mask is None:
            return dy
        return dy * self._scaled_mask

    def __repr__(self) -> str:
        return f"Dropout(rate={self.rate})"
