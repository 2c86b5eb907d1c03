"""GELU, SELU and softplus: three activations that PyTorch and Keras compute differently.

The same contract as ``activations.py`` (``forward(z)``, ``derivative(z, a)``), and
each takes ``convention="torch"`` or ``"keras"``: the framework whose numbers it
reproduces. Keras's numbers are those of its TensorFlow backend, which rounds the
constants it casts from a Python float through float32 (docs/conventions.md#float32-casts).

These are not lesson activations (not in ``ACTIVATIONS``): no lesson uses them and
neither twin builds them. ``conformance/tests/test_activation_conventions.py`` holds each
against ``torch.nn.functional`` and ``keras`` (docs/conventions-activations.md).
"""

from __future__ import annotations

import math

import numpy as np

from .activations import Activation
from .optimizers import CONVENTIONS

erfc = np.vectorize(math.erfc, otypes=[float])


def _convention(owner: str, convention: str) -> str:
    if convention not in CONVENTIONS:
        raise ValueError(f"{owner}: convention must be 'torch' or 'keras'. Received: convention={convention!r}")
    return convention


class GELU(Activation):
    """The Gaussian error linear unit, exact or with its tanh approximation.

    exact (``approximate=False``), with c = 1/sqrt(2)::

        gelu(z)  = 0.5 * z * erfc(-c * z)                   (= z * Phi(z))
        gelu'(z) = 0.5 * erfc(-c * z) + z * c / sqrt(pi) * exp(-(c * z)**2)

    tanh approximation (``approximate=True``), with s = sqrt(2/pi), k = 0.044715::

        u = s * (z + k * z**3)
        gelu(z)  = 0.5 * z * (1 + tanh(u))
        gelu'(z) = 0.5 * (1 + tanh(u)) + 0.5 * z * (1 - tanh(u)**2) * s * (1 + 3 * k * z**2)

    Which one a call computes depends on the call: torch ``F.gelu(z)`` and
    ``keras.activations.gelu(z)`` are exact, ``keras.ops.gelu(z)`` is the approximation
    (``approximate=True`` is its default); torch's is ``F.gelu(z, approximate="tanh")``.
    ``convention="keras"``: TensorFlow casts c (exact) and k (approximate) to the input's
    dtype from a Python float, through float32: c = 0.7071067690849304, k = 0.04471499845385551.
    """

    name = "gelu"

    def __init__(self, approximate: bool = False, convention: str = "torch"):
        self.convention = _convention("GELU", convention)
        self.approximate = approximate
        rounded = (lambda x: float(np.float32(x))) if convention == "keras" else float
        self.c, self.k, self.s = rounded(1 / math.sqrt(2)), rounded(0.044715), math.sqrt(2 / math.pi)

    def forward(self, z):
        if self.approximate:
            return 0.5 * z * (1 + np.tanh(self.s * (z + self.k * z**3)))
        return 0.5 * z * erfc(-self.c * z)

    def derivative(self, z, a):
        if self.approximate:
            t = np.tanh(self.s * (z + self.k * z**3))
            return 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * self.s * (1 + 3 * self.k * z * z)
        return 0.5 * erfc(-self.c * z) + z * self.c / math.sqrt(math.pi) * np.exp(-((self.c * z) ** 2))

    def __repr__(self):
        return f"GELU(approximate={self.approximate}, convention={self.convention!r})"


class SELU(Activation):
    """The scaled exponential linear unit (Klambauer et al. 2017)::

        selu(z)  = scale * z                      if z > 0
                   scale * alpha * (exp(z) - 1)   otherwise
        selu'(z) = scale if z > 0 else scale * alpha * exp(z)

    with alpha = 1.6732632423543772, scale = 1.0507009873554805. The frameworks differ
    at exactly z = 0, where the derivative jumps from scale * alpha to scale:

    convention="torch" (``F.selu``): the left branch, selu'(0) = scale * alpha = 1.7581
    convention="keras" (``keras.activations.selu`` on TensorFlow): the right, selu'(0) = scale = 1.0507
    """

    name = "selu"
    alpha, scale = 1.6732632423543772, 1.0507009873554805

    def __init__(self, convention: str = "torch"):
        self.convention = _convention("SELU", convention)

    def forward(self, z):
        with np.errstate(over="ignore"):  # expm1 of a large z overflows on the branch np.where discards
            return np.where(z > 0, self.scale * z, self.scale * self.alpha * np.expm1(z))

    def derivative(self, z, a):
        right = z > 0 if self.convention == "torch" else z >= 0
        with np.errstate(over="ignore"):
            return np.where(right, self.scale, self.scale * self.alpha * np.exp(z))

    def __repr__(self):
        return f"SELU(convention={self.convention!r})"


class Softplus(Activation):
    """softplus(z) = log(1 + exp(z));  softplus'(z) = sigmoid(z).

    convention="keras" (``keras.activations.softplus``): that formula for every z,
    computed as ``logaddexp(0, z)`` (exact where exp(z) overflows).
    convention="torch" (``F.softplus(z, beta=1, threshold=20)``): above the threshold,
    z itself and derivative 1::

        softplus(z) = z   and   softplus'(z) = 1      if z > threshold

    At z = 20.1 torch is exp(-20.1) = 1.9e-9 below the formula, in both the value and
    the derivative: far outside the float64 tolerance, inside the float32 one.
    """

    name = "softplus"

    def __init__(self, convention: str = "torch", threshold: float = 20.0):
        self.convention = _convention("Softplus", convention)
        self.threshold = threshold

    def forward(self, z):
        exact = np.logaddexp(0, z)
        return np.where(z > self.threshold, z, exact) if self.convention == "torch" else exact

    def derivative(self, z, a):
        with np.errstate(over="ignore"):  # exp(-z) = inf for very negative z: 1 / (1 + inf) = 0, exact
            exact = 1 / (1 + np.exp(-z))
        return np.where(z > self.threshold, 1.0, exact) if self.convention == "torch" else exact

    def __repr__(self):
        return f"Softplus(convention={self.convention!r}, threshold={self.threshold})"


CONVENTION_ACTIVATIONS: dict[str, type[Activation]] = {cls.name: cls for cls in (GELU, SELU, Softplus)}
