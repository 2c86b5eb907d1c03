"""Loss functions: the value and its gradient with respect to the prediction.

Shapes: ``y_pred`` and ``y`` are both ``(N, k)``: N samples, k outputs (k = 1
for a binary or regression head, k = classes for softmax, ``y`` one-hot). Any
other pair of shapes is refused (``check_same_shape``), not broadcast.
``forward`` returns a Python float, ``backward`` returns ``dL/dy_pred`` of shape
``(N, k)``. Every loss here is a *mean over the batch*, so the gradient carries
the ``1/N`` (the "1/m" of the lessons).

Losses on probabilities name the activation they fuse with (``fused_activation``):
when the network's last activation is that one, the MLP computes the loss from
the logits ``z`` instead (``from_logits()``), which is exact for any z and gives
the lessons' famous ``dL/dz = (a - y) / N``. Keras does the same silently
(docs/conventions.md#cross-entropy); torch's ``BCELoss`` on a sigmoid does not.

=====================  ================================  ====================================
reference              PyTorch                           Keras 3
=====================  ================================  ====================================
MeanSquaredError       ``nn.MSELoss()``                  ``losses.MeanSquaredError()``
HalfSumSquaredError    ``0.5 * MSELoss(reduction='sum')``  ``0.5 * ops.sum(ops.square(y - p))``
BinaryCrossEntropy     ``nn.BCELoss()``                  ``losses.BinaryCrossentropy()``
BinaryCrossEntropy...  ``nn.BCEWithLogitsLoss()``        ``BinaryCrossentropy(from_logits=True)``
CategoricalCrossEntr.  ``NLLLoss()(log(p), labels)``     ``losses.CategoricalCrossentropy()``
...WithLogits          ``nn.CrossEntropyLoss()``         ``CategoricalCrossentropy(from_logits=True)``
=====================  ================================  ====================================
"""

from __future__ import annotations

import numpy as np

from .activations import Sigmoid, Softmax

KERAS_EPSILON = 1e-7  # keras.config.epsilon(): Keras clips probabilities to [eps, 1 - eps]
TORCH_LOG_FLOOR = -100.0  # torch BCELoss clamps log(p) and log(1 - p) at -100
TORCH_BCE_GRAD_EPS = np.float32(1e-12)  # torch BCELoss backward: (p - y) / max(p(1-p), eps), eps a float32


def keras_clip_range(dtype: str = "float64") -> tuple[float, float]:
    """Keras's clip range [eps, 1 - eps] as its tensors hold it in ``dtype``.

    In float32, 1 - 1e-7 rounds to 0.99999988 (= 1 - 1.19e-7), so a float32
    Keras model clips a saturated sigmoid at log(1.19e-7) = -15.94, not -16.12.
    """
    low = np.asarray(KERAS_EPSILON, dtype)
    return float(low), float(np.asarray(1 - KERAS_EPSILON, dtype))


class Loss:
    """Contract: ``forward(y_pred, y) -> float`` and ``backward(y_pred, y) -> dL/dy_pred``."""

    name = "loss"
    fused_activation: str | None = None
    reduction = "mean"  # over the batch: undefined for an empty batch (see MLP.loss_value)

    def forward(self, y_pred: np.ndarray, y: np.ndarray) -> float:
        raise NotImplementedError

    def backward(self, y_pred: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def from_logits(self) -> "Loss":
        """The same loss computed from the logits of ``fused_activation``."""
        raise NotImplementedError(f"{self.name} has no logits form")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def check_same_shape(loss: Loss, y_pred: np.ndarray, y: np.ndarray, pred_name: str = "y_pred") -> None:
    """Refuse a prediction and a target of different shapes, naming both.

    NumPy would broadcast them: an (N, 1) prediction against an (N,) target becomes an
    (N, N) array, and the loss a wrong number with no warning. torch's ``BCELoss``
    refuses the same mistake; its ``MSELoss`` only warns; Keras squeezes or expands the
    target to the prediction's rank first. ``pred_name``: "z" for a loss on logits.
    """
    if np.shape(y_pred) != np.shape(y):
        raise ValueError(
            f"{type(loss).__name__}: {pred_name} and y must have the same shape (N, k). "
            f"Received: {pred_name}.shape={np.shape(y_pred)}, y.shape={np.shape(y)}"
        )


class MeanSquaredError(Loss):
    """L = mean((y_pred - y)**2) over all N*k elements;  dL/dy_pred = 2 (y_pred - y) / (N k).

    torch ``MSELoss()`` and Keras ``MeanSquaredError()`` agree on the mean (with
    ``reduction='sum'`` they do not: Keras sums per-sample means).
    """

    name = "mse"

    def forward(self, y_pred, y):
        check_same_shape(self, y_pred, y)
        return float(np.mean((y_pred - y) ** 2))

    def backward(self, y_pred, y):
        check_same_shape(self, y_pred, y)
        return 2 * (y_pred - y) / y_pred.size


class HalfSumSquaredError(Loss):
    """L = 0.5 * sum((y_pred - y)**2);  dL/dy_pred = y_pred - y (no 1/N: the classic XOR lesson)."""

    name = "half_sse"
    reduction = "sum"  # 0 for an empty batch

    def forward(self, y_pred, y):
        check_same_shape(self, y_pred, y)
        return float(0.5 * np.sum((y_pred - y) ** 2))

    def backward(self, y_pred, y):
        check_same_shape(self, y_pred, y)
        return y_pred - y


class BinaryCrossEntropy(Loss):
    """L = -mean(y log p + (1 - y) log(1 - p)) on probabilities p = y_pred.

    dL/dp = (p - y) / (p (1 - p)) / (N k).

    log(0) needs a convention, and the frameworks differ (docs/conventions.md#cross-entropy):

    - ``convention="torch"`` (``nn.BCELoss``): each log is clamped at -100, and the
      gradient divides by max(p (1 - p), 1e-12 as a float32).
    - ``convention="keras"`` (``BinaryCrossentropy()`` on probabilities that did
      not come from a Keras sigmoid): p is clipped to [1e-7, 1 - 1e-7] first, so
      the gradient is 0 outside that range. ``clip_dtype`` is the dtype Keras
      clips in (``keras_clip_range``). In float16, 1 - 1e-7 rounds to 1: p = 1 is
      not clipped, log(1 - p) = -inf, so the loss is inf where y = 0 and nan where
      y = 1 (0 * -inf), as Keras's float16 ``binary_crossentropy`` function gives.
    """

    name = "bce"
    fused_activation = "sigmoid"

    def __init__(self, convention: str = "torch", clip_dtype: str = "float64"):
        if convention not in ("torch", "keras"):
            raise ValueError(f"convention must be 'torch' or 'keras'. Received: convention={convention!r}")
        self.convention = convention
        self.clip_dtype = clip_dtype
        self.low, self.high = keras_clip_range(clip_dtype)

    def forward(self, y_pred, y):
        check_same_shape(self, y_pred, y)
        p = y_pred
        if self.convention == "keras":
            p = np.clip(p, self.low, self.high)
            with np.errstate(divide="ignore", invalid="ignore"):  # clipped in float16: log(0), 0 * -inf (above)
                return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
        with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped: torch's convention
            log_p = np.maximum(np.log(p), TORCH_LOG_FLOOR)
            log_1mp = np.maximum(np.log(1 - p), TORCH_LOG_FLOOR)
        return float(-np.mean(y * log_p + (1 - y) * log_1mp))

    def backward(self, y_pred, y):
        check_same_shape(self, y_pred, y)
        p = y_pred
        if self.convention == "keras":
            inside = (p >= self.low) & (p <= self.high)
            pc = np.clip(p, self.low, self.high)
            return np.where(inside, (pc - y) / (pc * (1 - pc)), 0).astype(p.dtype) / p.size
        return (p - y) / np.maximum(p * (1 - p), TORCH_BCE_GRAD_EPS) / p.size

    def from_logits(self):
        return BinaryCrossEntropyWithLogits()

    def __repr__(self):
        return f"BinaryCrossEntropy(convention={self.convention!r})"


class BinaryCrossEntropyWithLogits(Loss):
    """BCE computed from the logits z, exact for any z (torch ``BCEWithLogitsLoss``).

    L = mean(max(z, 0) - z y + log(1 + exp(-|z|)));  dL/dz = (sigmoid(z) - y) / (N k).
    """

    name = "bce_logits"

    def forward(self, z, y):
        check_same_shape(self, z, y, "z")
        return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))

    def backward(self, z, y, a=None):
        """(sigmoid(z) - y) / (N k). ``a``: sigmoid(z) if the caller has it already (the MLP
        does: it is the network's output), so it is not computed a second time."""
        check_same_shape(self, z, y, "z")
        if a is None:
            a = Sigmoid().forward(z)
        return (a - y) / z.size


class CategoricalCrossEntropy(Loss):
    """L = -mean_n sum_k y_nk log p_nk on probabilities p = y_pred (rows sum to 1), y one-hot.

    dL/dp = -y / p / N.

    - ``convention="torch"`` (``NLLLoss`` of ``log(p)``): no clipping.
    - ``convention="keras"`` (``CategoricalCrossentropy()`` on probabilities that
      did not come from a Keras softmax): p is renormalised by its row sum and
      clipped to [1e-7, 1 - 1e-7] (in ``clip_dtype``). Its gradient then differs by
      1/(N sum p), which cancels through a softmax (docs/conventions.md#cross-entropy).
    """

    name = "cce"
    fused_activation = "softmax"

    def __init__(self, convention: str = "torch", clip_dtype: str = "float64"):
        if convention not in ("torch", "keras"):
            raise ValueError(f"convention must be 'torch' or 'keras'. Received: convention={convention!r}")
        self.convention = convention
        self.clip_dtype = clip_dtype
        self.low, self.high = keras_clip_range(clip_dtype)

    def _probabilities(self, p):
        if self.convention == "keras":
            return np.clip(p / p.sum(axis=1, keepdims=True), self.low, self.high)
        return p

    def forward(self, y_pred, y):
        check_same_shape(self, y_pred, y)
        # A class whose target is 0 adds nothing, even where its p is 0 (0 * log 0 = 0, as
        # torch's NLLLoss with class labels): np.where keeps 0 * -inf = nan out of the sum.
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(y != 0, y * np.log(self._probabilities(y_pred)), 0)
        return float(-np.sum(terms) / y_pred.shape[0])

    def backward(self, y_pred, y):
        check_same_shape(self, y_pred, y)
        n = y_pred.shape[0]
        if self.convention == "keras":
            s = y_pred.sum(axis=1, keepdims=True)
            q = y_pred / s
            inside = (q >= self.low) & (q <= self.high)
            dq = np.where(inside, -y / np.clip(q, self.low, 1), 0)
            # through q = p / s: dL/dp_j = (dq_j - sum_i dq_i q_i) / s
            return (dq - (dq * q).sum(axis=1, keepdims=True)) / s / n
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(y != 0, -y / y_pred, 0) / n  # 0 where the target is 0, even at p = 0

    def from_logits(self):
        return CategoricalCrossEntropyWithLogits()

    def __repr__(self):
        return f"CategoricalCrossEntropy(convention={self.convention!r})"


class CategoricalCrossEntropyWithLogits(Loss):
    """CCE from the logits z (torch ``CrossEntropyLoss``), stable for any z.

    L = mean_n (logsumexp(z_n) - sum_k y_nk z_nk);  dL/dz = (softmax(z) - y) / N.
    """

    name = "cce_logits"

    def forward(self, z, y):
        check_same_shape(self, z, y, "z")
        m = z.max(axis=1, keepdims=True)
        logsumexp = m + np.log(np.exp(z - m).sum(axis=1, keepdims=True))  # (N, 1)
        return float((np.sum(logsumexp * y) - np.sum(y * z)) / z.shape[0])

    def backward(self, z, y, a=None):
        """(softmax(z) - y) / N. ``a``: softmax(z) if the caller has it already (the MLP does),
        so it is not computed a second time (two row-wise reductions and an exp)."""
        check_same_shape(self, z, y, "z")
        if a is None:
            a = Softmax().forward(z)
        return (a - y) / z.shape[0]


LOSSES: dict[str, type[Loss]] = {
    cls.name: cls
    for cls in (
        MeanSquaredError,
        HalfSumSquaredError,
        BinaryCrossEntropy,
        BinaryCrossEntropyWithLogits,
        CategoricalCrossEntropy,
        CategoricalCrossEntropyWithLogits,
    )
}


def get_loss(name: str) -> Loss:
    """The loss called ``name`` (a key of ``LOSSES``)."""
    try:
        return LOSSES[name]()
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; expected one of {sorted(LOSSES)}") from None
