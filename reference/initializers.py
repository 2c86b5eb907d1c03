"""Weight initializers: how a layer's first weights are drawn.

A kernel has shape ``(fan_in, fan_out)`` (Keras's layout, used by ``X @ W``);
a bias has shape ``(fan_out,)``. Every initializer is called as
``init(shape, rng, fan_in=..., fan_out=...)`` with a ``numpy.random.Generator``
and returns float64 (nnparity makes weights once, in float64, and casts).
The fans default to ``shape`` for a kernel; a bias needs them passed.

=====================  ============================================  ====================================
reference              PyTorch (``torch.nn.init``)                   Keras 3 (``keras.initializers``)
=====================  ============================================  ====================================
zeros                  ``zeros_``                                    ``Zeros()``
normal(scale)          ``normal_(std=scale)``                        ``RandomNormal(stddev=scale)``
uniform(low, high)     ``uniform_(low, high)``                       ``RandomUniform(low, high)``
glorot_uniform         ``xavier_uniform_``                           ``GlorotUniform()``
glorot_normal          ``xavier_normal_``                            ``GlorotNormal()`` (truncated=True)
he_normal              ``kaiming_normal_(nonlinearity='relu')``      ``HeNormal()`` (truncated=True)
he_uniform             ``kaiming_uniform_(nonlinearity='relu')``     ``HeUniform()``
torch_linear_default   what ``nn.Linear`` does: U(+-1/sqrt(fan_in))  ``RandomUniform(-1/sqrt(fan_in), ...)``
=====================  ============================================  ====================================

Keras's normal initializers draw a normal truncated at 2 standard deviations and
widen it by 1/0.87962566103423978 so the variance is still the target;
``truncated=True`` does the same here, so both distributions can be reproduced.
"""

from __future__ import annotations

import numpy as np

# Standard deviation of a unit normal truncated to [-2, 2] (Keras's constant).
TRUNCATED_NORMAL_STD = 0.87962566103423978


class Initializer:
    """Contract: ``init(shape, rng, fan_in=None, fan_out=None) -> float64 array of shape``."""

    name = "initializer"

    def __call__(self, shape, rng: np.random.Generator, fan_in=None, fan_out=None) -> np.ndarray:
        shape = tuple(shape)
        if fan_in is None or fan_out is None:
            if len(shape) != 2:
                raise ValueError(
                    f"{self.name}: fan_in and fan_out must be given for a shape that is not "
                    f"(fan_in, fan_out). Received: shape={shape}"
                )
            fan_in, fan_out = shape
        return np.asarray(self.draw(shape, rng, fan_in, fan_out), dtype=np.float64)

    def draw(self, shape, rng, fan_in, fan_out):
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


def _normal(rng, shape, std, truncated):
    """N(0, std**2), or (truncated=True) Keras's 2-sigma truncated normal with the same variance."""
    if not truncated:
        return rng.normal(0.0, std, shape)
    out = rng.standard_normal(shape)
    bad = np.abs(out) > 2
    while bad.any():  # resample what fell outside [-2, 2] (what tf.random.truncated_normal does)
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2
    return out * (std / TRUNCATED_NORMAL_STD)


class Zeros(Initializer):
    """w = 0 (every unit of a layer then computes the same thing: the symmetry problem)."""

    name = "zeros"

    def draw(self, shape, rng, fan_in, fan_out):
        return np.zeros(shape)


class Normal(Initializer):
    """w ~ N(0, scale**2): the lessons' ``np.random.randn(...) * scale``."""

    name = "normal"

    def __init__(self, scale: float = 1.0):
        if not scale > 0:
            raise ValueError(f"normal: expected a positive scale. Received: scale={scale}")
        self.scale = float(scale)

    def draw(self, shape, rng, fan_in, fan_out):
        return rng.standard_normal(shape) * self.scale


class Uniform(Initializer):
    """w ~ U(low, high): the XOR lesson's ``np.random.uniform(size=...)`` is U(0, 1)."""

    name = "uniform"

    def __init__(self, low: float = 0.0, high: float = 1.0):
        if not high > low:
            raise ValueError(f"uniform: expected low < high. Received: low={low}, high={high}")
        self.low, self.high = float(low), float(high)

    def draw(self, shape, rng, fan_in, fan_out):
        return rng.uniform(self.low, self.high, shape)


class GlorotUniform(Initializer):
    """Xavier/Glorot uniform: w ~ U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out))."""

    name = "glorot_uniform"

    def draw(self, shape, rng, fan_in, fan_out):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, shape)


class GlorotNormal(Initializer):
    """Xavier/Glorot normal: std = sqrt(2 / (fan_in + fan_out)) (Keras: truncated, see module doc)."""

    name = "glorot_normal"

    def __init__(self, truncated: bool = False):
        self.truncated = bool(truncated)

    def draw(self, shape, rng, fan_in, fan_out):
        return _normal(rng, shape, np.sqrt(2.0 / (fan_in + fan_out)), self.truncated)


class HeNormal(Initializer):
    """He/Kaiming normal for ReLU: std = sqrt(2 / fan_in) (Keras: truncated, see module doc)."""

    name = "he_normal"

    def __init__(self, truncated: bool = False):
        self.truncated = bool(truncated)

    def draw(self, shape, rng, fan_in, fan_out):
        return _normal(rng, shape, np.sqrt(2.0 / fan_in), self.truncated)


class HeUniform(Initializer):
    """He/Kaiming uniform for ReLU: w ~ U(-limit, limit), limit = sqrt(6 / fan_in)."""

    name = "he_uniform"

    def draw(self, shape, rng, fan_in, fan_out):
        limit = np.sqrt(6.0 / fan_in)
        return rng.uniform(-limit, limit, shape)


class TorchLinearDefault(Initializer):
    """What ``nn.Linear`` does to weight and bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    (torch writes it as ``kaiming_uniform_(a=sqrt(5))``, which reduces to this bound.)
    """

    name = "torch_linear_default"

    def draw(self, shape, rng, fan_in, fan_out):
        bound = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape)


INITIALIZERS: dict[str, type[Initializer]] = {
    cls.name: cls
    for cls in (Zeros, Normal, Uniform, GlorotUniform, GlorotNormal, HeNormal, HeUniform, TorchLinearDefault)
}


def get_initializer(name: str, **kwargs) -> Initializer:
    """The initializer called ``name`` (a key of ``INITIALIZERS``) with its arguments."""
    try:
        cls = INITIALIZERS[name]
    except KeyError:
        raise ValueError(f"unknown initializer {name!r}; expected one of {sorted(INITIALIZERS)}") from None
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ValueError(f"initializer {name!r}: {exc}") from None
