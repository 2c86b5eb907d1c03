"""Batch normalization: standardise each unit over the batch, then scale and shift it.

Shapes: ``x`` and ``y`` are ``(N, units)``; ``gamma``, ``beta``, ``moving_mean`` and
``moving_variance`` are ``(units,)``. Statistics are taken over the batch axis
(axis 0), one per unit.

Training (the batch's own statistics)::

    mean = x.mean(axis=0)
    var = ((x - mean) ** 2).mean(axis=0)           # biased (divides by N): both frameworks normalise with it
    x_hat = (x - mean) / sqrt(var + epsilon)
    y = gamma * x_hat + beta

    # and, as a side effect, the running statistics used at inference:
    moving_mean = momentum * moving_mean + (1 - momentum) * mean
    moving_variance = momentum * moving_variance + (1 - momentum) * var_r
    #   var_r = var * N / (N - 1)   (unbiased: PyTorch)   or   var_r = var   (biased: Keras)

Inference (the running statistics, nothing updated)::

    y = gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta

Backward in training. ``mean`` and ``var`` depend on every sample, so each x_n
gets three paths: through its own x_hat, through the mean, through the variance::

    dgamma = sum(dy * x_hat, axis=0)
    dbeta = sum(dy, axis=0)
    dx_hat = dy * gamma
    dx = (dx_hat - mean(dx_hat, axis=0) - x_hat * mean(dx_hat * x_hat, axis=0)) / sqrt(var + epsilon)

gamma is one number per unit, so the two means are the parameter gradients again:
mean(dx_hat) = gamma * dbeta / N and mean(dx_hat * x_hat) = gamma * dgamma / N. The
code computes the same dx from them (PyTorch's CPU kernel does too, ``batch_norm_backward``
in ATen's ``Normalization.cpp``), with two sums and two (N, units) products fewer::

    dx = gamma / sqrt(var + epsilon) * (dy - dbeta / N - x_hat * dgamma / N)

(In inference the statistics are constants: dx = dy * gamma / sqrt(moving_variance + epsilon).)

The frameworks' conventions differ in three ways (docs/conventions.md#batchnorm), and
nnparity writes each one down rather than trusting defaults:

=====================  ==========================================  ============================================
                       PyTorch ``nn.BatchNorm1d(units)``           Keras ``layers.BatchNormalization()``
=====================  ==========================================  ============================================
momentum               ``momentum=0.1``: the weight of the *new*   ``momentum=0.99``: the weight of the *old*
                       batch: r = (1 - m) r + m batch              value: r = m r + (1 - m) batch
epsilon                ``eps=1e-5``                                ``epsilon=1e-3``
running variance       unbiased (x N/(N-1)); no option             biased; no option
scale, shift           ``weight``, ``bias``                        ``gamma``, ``beta``
running statistics     ``running_mean``, ``running_var``           ``moving_mean``, ``moving_variance``
mode                   ``model.train()`` / ``model.eval()``        ``training=True`` / ``training=False``
=====================  ==========================================  ============================================

nnparity speaks Keras's vocabulary: ``momentum`` here is the weight of the old
value (torch's ``momentum`` is ``1 - momentum``). No setting makes the running
variances agree, so this reference takes the convention as an argument
(``running_variance="unbiased"`` or ``"biased"``), and ``CONVENTIONS`` holds each
framework's defaults written in this vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .reductions import batch_mean, batch_sum

RUNNING_VARIANCES = ("unbiased", "biased")


@dataclass(frozen=True)
class BatchNormConvention:
    """A framework's BatchNorm defaults, in nnparity's (Keras's) vocabulary."""

    momentum: float  # weight of the old running value
    epsilon: float
    running_variance: str  # "unbiased" or "biased"


CONVENTIONS: dict[str, BatchNormConvention] = {
    # nn.BatchNorm1d(units): momentum=0.1 weighs the new batch, so the old value's weight is 0.9
    "torch": BatchNormConvention(momentum=0.9, epsilon=1e-5, running_variance="unbiased"),
    # keras.layers.BatchNormalization(): momentum=0.99 weighs the old value
    "keras": BatchNormConvention(momentum=0.99, epsilon=1e-3, running_variance="biased"),
}


def get_convention(framework: str) -> BatchNormConvention:
    """The BatchNorm defaults of ``framework`` ("torch" or "keras")."""
    try:
        return CONVENTIONS[framework]
    except KeyError:
        raise ValueError(f"unknown BatchNorm convention {framework!r}; expected one of {sorted(CONVENTIONS)}") from None


class BatchNorm:
    """Batch normalization over axis 0 with scale ``gamma`` and shift ``beta`` (see the module doc).

    ``gamma``, ``beta``, ``moving_mean`` and ``moving_variance`` are the caller's
    arrays, used and updated in place (like ``Dense``'s kernel): the MLP's
    parameter dict sees every change. ``backward`` returns (dgamma, dbeta, dx).
    """

    def __init__(self, gamma, beta, moving_mean, moving_variance, *, momentum: float, epsilon: float,
                 running_variance: str):
        units = np.shape(gamma)
        for name, value in (("beta", beta), ("moving_mean", moving_mean), ("moving_variance", moving_variance)):
            if np.shape(value) != units:
                raise ValueError(
                    f"BatchNorm: {name} must have gamma's shape {units}. Received: {name}.shape={np.shape(value)}"
                )
        if len(units) != 1:
            raise ValueError(f"BatchNorm: gamma must be 1-D (units,). Received: gamma.shape={units}")
        if not 0 <= momentum <= 1:
            raise ValueError(f"BatchNorm: expected 0 <= momentum <= 1 (the old value's weight). "
                             f"Received: momentum={momentum}")
        if not epsilon > 0:
            raise ValueError(f"BatchNorm: expected a positive epsilon. Received: epsilon={epsilon}")
        if running_variance not in RUNNING_VARIANCES:
            raise ValueError(f"BatchNorm: running_variance must be one of {RUNNING_VARIANCES}. "
                             f"Received: running_variance={running_variance!r}")
        self.gamma, self.beta = gamma, beta
        self.moving_mean, self.moving_variance = moving_mean, moving_variance
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.running_variance = running_variance
        self._cache = None

    @property
    def units(self) -> int:
        return self.gamma.shape[0]

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """y = gamma * x_hat + beta, with the batch's statistics (training) or the running ones (inference)."""
        if x.ndim != 2 or x.shape[1] != self.units:
            raise ValueError(f"BatchNorm: x must have shape (N, {self.units}). Received: x.shape={x.shape}")
        if training:
            n = x.shape[0]
            if n < 2:
                raise ValueError(f"BatchNorm: training needs at least 2 samples per batch. Received: N={n}")
            # mean = x.mean(axis=0);  var = ((x - mean) ** 2).mean(axis=0)
            mean = batch_mean(x)  # these means as one BLAS call each (reductions.py)
            var = batch_mean((x - mean) ** 2)
            self._update_running_statistics(mean, var, n)
        else:
            mean, var = self.moving_mean, self.moving_variance
        inv_std = 1 / np.sqrt(var + self.epsilon)  # kept for the backward pass
        x_hat = (x - mean) * inv_std
        self._cache = (x_hat, inv_std, training)
        return self.gamma * x_hat + self.beta

    def _update_running_statistics(self, mean, var, n) -> None:
        """moving = momentum * moving + (1 - momentum) * batch, the variance unbiased or biased."""
        var_r = var * (n / (n - 1)) if self.running_variance == "unbiased" else var
        m = self.momentum
        # [:] writes into the arrays themselves: the model's parameter dict holds these very arrays
        self.moving_mean[:] = m * self.moving_mean + (1 - m) * mean
        self.moving_variance[:] = m * self.moving_variance + (1 - m) * var_r

    def backward(self, dy: np.ndarray):
        """Given dy = dL/dy (N, units): (dgamma, dbeta, dx), through the batch statistics in training."""
        if self._cache is None:
            raise RuntimeError("BatchNorm.backward called before forward")
        x_hat, inv_std, training = self._cache
        # dgamma = (dy * x_hat).sum(axis=0);  dbeta = dy.sum(axis=0)
        dgamma = batch_sum(dy * x_hat)  # these sums as one BLAS call each (reductions.py)
        dbeta = batch_sum(dy)
        if not training:
            return dgamma, dbeta, dy * self.gamma * inv_std
        n = dy.shape[0]
        dx = self.gamma * inv_std * (dy - dbeta / n - x_hat * (dgamma / n))  # module doc
        return dgamma, dbeta, dx

    def __repr__(self) -> str:
        return (f"BatchNorm(units={self.units}, momentum={self.momentum}, epsilon={self.epsilon}, "
                f"running_variance={self.running_variance!r})")
