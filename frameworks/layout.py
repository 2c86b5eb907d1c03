"""The one place where parameter layouts are converted.

The reference and Keras store a Dense kernel as ``(fan_in, units)`` and compute
``X @ W``; PyTorch's ``nn.Linear`` stores ``weight`` as ``(units, fan_in)`` and
computes ``X @ weight.T``. Biases are ``(units,)`` everywhere. Gradients follow
their parameter's layout, so the same two functions convert them.
"""

from __future__ import annotations

import numpy as np


def to_torch(name: str, value: np.ndarray) -> np.ndarray:
    """Reference layout -> torch layout for the parameter (or gradient) ``name``."""
    return np.ascontiguousarray(value.T) if name.startswith("W") else value


def from_torch(name: str, value: np.ndarray) -> np.ndarray:
    """torch layout -> reference layout (the inverse of ``to_torch``)."""
    return np.ascontiguousarray(value.T) if name.startswith("W") else value


def to_keras(name: str, value: np.ndarray) -> np.ndarray:
    """Reference layout -> Keras layout: the same, (fan_in, units)."""
    return value


def from_keras(name: str, value: np.ndarray) -> np.ndarray:
    """Keras layout -> reference layout: the same, (fan_in, units)."""
    return value
