"""Weight penalties: a term added to the loss that pulls the kernels towards zero.

L2 on the kernels (Keras's ``kernel_regularizer=L2(l2)``), for kernels W_1 .. W_L::

    penalty = l2 * sum_l sum(W_l ** 2)       # no 1/2, no 1/N: Keras's formula
    L_total = L_data + penalty
    dpenalty/dW_l = 2 * l2 * W_l             # added to each kernel's gradient; biases get nothing

=================  ==============================================  ==============================================
                   PyTorch                                         Keras 3
=================  ==============================================  ==============================================
as a loss term     ``loss = criterion(out, y) + l2 * sum(           ``Dense(units, kernel_regularizer=L2(l2))``;
                   (m.weight ** 2).sum() for m in linears)``       ``fit`` adds ``model.losses`` to the loss, a
                                                                   ``GradientTape`` loop must add them itself
as weight decay    ``SGD(params, lr, weight_decay=wd)`` adds       ``SGD(weight_decay=wd)`` is *decoupled*:
                   wd * W to the gradient: wd = 2 * l2, and it     W -= lr * wd * W, not a loss term
                   decays the biases too unless they are in a      (docs/conventions.md)
                   param group with ``weight_decay=0``
=================  ==============================================  ==============================================

In float64, Keras computes ``ops.cast(l2, x.dtype)``, which on the TensorFlow
backend goes through float32 (docs/conventions.md#float32-casts): ``L2(1e-3)`` uses
1.0000000474974513e-3. A factor that float32 holds exactly (a power of two such
as 2**-10) avoids it; nnparity's lessons use one.
"""

from __future__ import annotations

import numpy as np


class L2:
    """penalty(W) = l2 * sum(W ** 2);  gradient(W) = 2 * l2 * W."""

    name = "l2"

    def __init__(self, l2: float):
        if not l2 >= 0:
            raise ValueError(f"L2: expected a non-negative factor. Received: l2={l2}")
        self.l2 = float(l2)

    def penalty(self, kernel: np.ndarray) -> float:
        return float(self.l2 * np.sum(kernel * kernel))

    def gradient(self, kernel: np.ndarray) -> np.ndarray:
        return 2 * self.l2 * kernel

    def __repr__(self) -> str:
        return f"L2(l2={self.l2})"
