"""Two loss differences a port from one framework to the other meets: shapes and class weights.

``losses.py`` holds the lessons' losses, which refuse a prediction and a target of
different shapes. Here are two places where the frameworks silently compute different
numbers from the same call (docs/conventions-losses.md); each function returns the
loss and its gradient with respect to the prediction (or the logits), under
``convention="torch"`` or ``"keras"``. (The third, the loss's input, needs nothing new:
torch's ``CrossEntropyLoss`` is ``CategoricalCrossEntropyWithLogits``, Keras's
``CategoricalCrossentropy()`` is ``CategoricalCrossEntropy(convention="keras")``.)
"""

from __future__ import annotations

import numpy as np

from .activations import Softmax
from .losses import Loss, check_same_shape
from .optimizers import CONVENTIONS

# What a class-weighted loss divides the weighted sum by (a lesson's class_weight_divisor), and the
# framework whose default it is: torch CrossEntropyLoss(weight=w) on class indices, Keras fit(class_weight=...).
CLASS_WEIGHT_DIVISORS = {"sum_of_weights": "torch", "batch_size": "keras"}


def _convention(owner: str, convention: str) -> None:
    if convention not in CONVENTIONS:
        raise ValueError(f"{owner}: convention must be 'torch' or 'keras'. Received: convention={convention!r}")


def mse_of_shapes(y_pred: np.ndarray, y: np.ndarray, convention: str = "torch") -> tuple[float, np.ndarray]:
    """Mean squared error of a prediction of shape (N, 1) against a target of shape (N,).

    convention="torch" (``F.mse_loss(y_pred, y)``, with a UserWarning): NumPy's and torch's
    broadcasting make every prediction meet every target, an (N, N) table::

        L = mean over i, j of (y_pred_i - y_j)**2;   dL/dy_pred_i = 2 * sum_j (y_pred_i - y_j) / N**2

    convention="keras" (``losses.MeanSquaredError()(y, y_pred)``): Keras first aligns the
    ranks, giving the target a last axis of size 1 (``squeeze_or_expand_to_same_rank``)::

        L = mean over i of (y_pred_i - y_i)**2;      dL/dy_pred_i = 2 * (y_pred_i - y_i) / N
    """
    _convention("mse_of_shapes", convention)
    if y_pred.shape != (len(y), 1) or y.ndim != 1:
        raise ValueError(f"mse_of_shapes: expected y_pred of shape (N, 1) and y of shape (N,). "
                         f"Received: {y_pred.shape} and {y.shape}")
    if convention == "torch":
        diff = y_pred - y  # (N, 1) - (N,) broadcasts to (N, N): diff[i, j] = y_pred_i - y_j
        return float(np.mean(diff**2)), 2 * diff.sum(axis=1, keepdims=True) / diff.size
    diff = y_pred[:, 0] - y
    return float(np.mean(diff**2)), (2 * diff / len(y))[:, None]


def weighted_cross_entropy(z: np.ndarray, y: np.ndarray, class_weight: np.ndarray,
                           convention: str = "torch") -> tuple[float, np.ndarray]:
    """Categorical cross-entropy from logits z (N, k), one-hot y, with a weight per class.

    Every sample's loss ``l_i = logsumexp(z_i) - z_i . y_i`` is weighted by its class's
    weight ``s_i = class_weight . y_i``. The frameworks divide by different totals:

    convention="torch" (``nn.CrossEntropyLoss(weight=class_weight)``): by the weights' sum::

        L = sum_i s_i l_i / sum_i s_i;   dL/dz_i = s_i (softmax(z_i) - y_i) / sum_i s_i

    convention="keras" (``model.fit(..., class_weight={c: w})``, which makes them sample
    weights, and a loss's default ``reduction="sum_over_batch_size"``): by N::

        L = sum_i s_i l_i / N;           dL/dz_i = s_i (softmax(z_i) - y_i) / N
    """
    _convention("weighted_cross_entropy", convention)
    if class_weight.shape != (z.shape[1],):
        raise ValueError(f"weighted_cross_entropy: expected one weight per class, shape ({z.shape[1]},). "
                         f"Received: {class_weight.shape}")
    s = y @ class_weight
    top = z.max(axis=1, keepdims=True)
    losses = (top[:, 0] + np.log(np.exp(z - top).sum(axis=1))) - (z * y).sum(axis=1)
    total = s.sum() if convention == "torch" else len(z)
    return float(s @ losses / total), s[:, None] * (Softmax().forward(z) - y) / total


class ClassWeightedCrossEntropyWithLogits(Loss):
    """``weighted_cross_entropy`` as a loss of the MLP, from the logits z (the softmax's, fused).

    ``divisor="sum_of_weights"``: sum_i s_i l_i / sum_i s_i (torch's ``CrossEntropyLoss(weight=w)`` on
    class indices; Keras ``CategoricalCrossentropy(reduction="mean_with_sample_weight")``);
    ``divisor="batch_size"``: sum_i s_i l_i / N (Keras's ``fit(class_weight=...)``; torch
    ``CrossEntropyLoss(weight=w, reduction="sum")`` divided by N).
    """

    name = "cce_logits"

    def __init__(self, class_weight, divisor: str = "sum_of_weights"):
        if divisor not in CLASS_WEIGHT_DIVISORS:
            raise ValueError(f"{type(self).__name__}: divisor must be one of {sorted(CLASS_WEIGHT_DIVISORS)}. "
                             f"Received: divisor={divisor!r}")
        self.class_weight = np.asarray(class_weight, dtype=np.float64)
        self.divisor, self.convention = divisor, CLASS_WEIGHT_DIVISORS[divisor]

    def forward(self, z, y):
        check_same_shape(self, z, y, "z")
        return weighted_cross_entropy(z, y, self.class_weight.astype(z.dtype), self.convention)[0]

    def backward(self, z, y, a=None):
        """The gradient in z's dtype (the weights taken in it: a float32 reference stays float32)."""
        check_same_shape(self, z, y, "z")
        return weighted_cross_entropy(z, y, self.class_weight.astype(z.dtype), self.convention)[1]

    def __repr__(self):
        return f"{type(self).__name__}({self.class_weight.tolist()}, divisor={self.divisor!r})"


class ClassWeightedCrossEntropy(ClassWeightedCrossEntropyWithLogits):
    """The same loss on probabilities p (rows of a softmax): l_i = -log p_i . y_i; the MLP computes it
    from the logits instead when its last activation is the softmax (``from_logits``)."""

    name = "cce"
    fused_activation = "softmax"

    def _weights_and_total(self, p, y):
        s = y @ self.class_weight.astype(p.dtype)
        return s, (s.sum() if self.convention == "torch" else len(p))

    def forward(self, p, y):
        """sum_i s_i (-log p_i . y_i) / total (a class whose target is 0 adds nothing, even at p = 0)."""
        check_same_shape(self, p, y)
        s, total = self._weights_and_total(p, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            losses = -np.where(y != 0, y * np.log(p), 0).sum(axis=1)
        return float(s @ losses / total)

    def backward(self, p, y, a=None):
        """-s_i y_i / p_i / total."""
        check_same_shape(self, p, y)
        s, total = self._weights_and_total(p, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(y != 0, -(s[:, None] * y) / p, 0) / total

    def from_logits(self):
        return ClassWeightedCrossEntropyWithLogits(self.class_weight, self.divisor)
