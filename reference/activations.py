"""Activation functions, each with its forward and its derivative side by side.

Every activation maps a pre-activation ``z`` of shape ``(N, units)`` to an
activation ``a = f(z)`` of the same shape. ``backward(z, a, da)`` turns the
upstream gradient ``da = dL/da`` into ``dz = dL/dz`` (the chain rule for one
layer). For the elementwise functions that is ``da * f'(z)``; softmax mixes the
units of a row, so it has its own ``backward``.

Framework equivalents (the names nnparity uses are Keras's):

============  ===========================  ==================================
name          PyTorch                      Keras 3
============  ===========================  ==================================
sigmoid       ``torch.sigmoid``            ``keras.activations.sigmoid``
tanh          ``torch.tanh``               ``keras.activations.tanh``
relu          ``torch.relu``               ``keras.activations.relu``
leaky_relu    ``F.leaky_relu(z, slope)``   ``ops.where(z > 0, z, slope * z)``
softmax       ``torch.softmax(z, dim=1)``  ``keras.activations.softmax``
linear        (nothing)                    ``keras.activations.linear``
step          ``(z >= 0).to(z.dtype)``     ``ops.cast(z >= 0, z.dtype)``
              + ``z - z.detach()``         + ``z - ops.stop_gradient(z)``
============  ===========================  ==================================
"""

from __future__ import annotations

import numpy as np


class Activation:
    """Contract: ``forward(z) -> a`` and ``backward(z, a, da) -> dz``."""

    name = "activation"

    def forward(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        """da/dz elementwise, given both z and a = f(z) (each uses the cheaper one)."""
        raise NotImplementedError

    def backward(self, z: np.ndarray, a: np.ndarray, da: np.ndarray) -> np.ndarray:
        """dL/dz = dL/da * f'(z) for an elementwise activation."""
        return da * self.derivative(z, a)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Sigmoid(Activation):
    """sigmoid(z) = 1 / (1 + exp(-z));  sigmoid'(z) = a * (1 - a).

    The formula is used as written, and it is exact for any z: for z below
    about -709 (-88 in float32), exp(-z) overflows to inf and 1 / (1 + inf)
    is 0, the correct limit. That overflow is harmless, so its warning is
    silenced. (The textbook "stable" form, exp(z) / (1 + exp(z)) for z < 0
    chosen by ``np.where``, computes both branches for every element: 2-10x
    slower here, for the same values to the last bit or two.)
    """

    name = "sigmoid"

    def forward(self, z):
        with np.errstate(over="ignore"):  # exp(-z) = inf for very negative z: 1 / (1 + inf) = 0, exact
            return 1 / (1 + np.exp(-z))

    def derivative(self, z, a):
        return a * (1 - a)


class Tanh(Activation):
    """tanh(z);  tanh'(z) = 1 - a**2."""

    name = "tanh"

    def forward(self, z):
        return np.tanh(z)

    def derivative(self, z, a):
        return 1 - a * a


class ReLU(Activation):
    """relu(z) = max(z, 0);  relu'(z) = 1 if z > 0 else 0 (0 at the kink, as in torch and Keras)."""

    name = "relu"

    def forward(self, z):
        return np.maximum(z, 0)

    def derivative(self, z, a):
        return (z > 0).astype(z.dtype)


class LeakyReLU(Activation):
    """leaky_relu(z) = z if z > 0 else slope * z;  derivative 1 or slope (slope at z = 0).

    Defaults differ: torch ``negative_slope=0.01``, Keras ``leaky_relu`` 0.2 and
    ``layers.LeakyReLU`` 0.3. nnparity always passes the slope explicitly, and the
    Keras twin uses ``ops.where`` because TF's kernel rounds the slope to float32.
    """

    name = "leaky_relu"

    def __init__(self, slope: float = 0.01):
        self.slope = float(slope)

    def forward(self, z):
        return np.where(z > 0, z, self.slope * z)

    def derivative(self, z, a):
        return np.where(z > 0, 1, self.slope).astype(z.dtype)

    def __repr__(self):
        return f"LeakyReLU(slope={self.slope})"


class Softmax(Activation):
    """softmax(z)_j = exp(z_j - max(z)) / sum_k exp(z_k - max(z)), over each row (axis 1).

    Its Jacobian is da_j/dz_i = a_j * (delta_ij - a_i), so for an upstream ``da``:
    dz = a * (da - sum(da * a, axis=1, keepdims=True)).
    """

    name = "softmax"

    def forward(self, z):
        e = np.exp(z - z.max(axis=1, keepdims=True))  # the shift keeps exp <= 1
        return e / e.sum(axis=1, keepdims=True)

    def backward(self, z, a, da):
        return a * (da - (da * a).sum(axis=1, keepdims=True))


class Linear(Activation):
    """linear(z) = z;  derivative 1."""

    name = "linear"

    def forward(self, z):
        return z

    def backward(self, z, a, da):
        return da


class Step(Activation):
    """The perceptron's step: step(z) = 1 if z >= 0 else 0.

    Its true derivative is 0 everywhere (undefined at 0), so gradient descent
    could never move a perceptron. The perceptron rule instead uses the
    *straight-through* convention: the backward pass treats the step as the
    identity, step'(z) := 1. With that convention and the loss
    0.5 * (y_hat - y)**2 on one sample, gradient descent is exactly the rule::

        dL/dz = (y_hat - y) * 1;  dL/dw = (y_hat - y) * x
        w = w - lr * dL/dw = w + lr * (y - y_hat) * x

    PyTorch and Keras have no step activation; nnparity writes the same thing
    with a stopped gradient: ``y_hat = step(z) + (z - stop_gradient(z))``,
    whose value is exactly step(z) (z - z is exactly 0) and whose derivative
    is 1. (The same gradient comes from the perceptron criterion
    L = (stop_gradient(y_hat) - y) * z.)
    """

    name = "step"

    def forward(self, z):
        return (z >= 0).astype(z.dtype)

    def derivative(self, z, a):
        return np.ones_like(z)  # straight-through: see the class docstring


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Sigmoid, Tanh, ReLU, LeakyReLU, Softmax, Linear, Step)
}


def get_activation(name: str) -> Activation:
    """The activation called ``name`` (a key of ``ACTIVATIONS``)."""
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}"
        ) from None
