"""Single building blocks in Keras 3, for the component checks (``conformance/checks/components.py``).

Same contract as ``torch_components.py``; gradients come from ``tf.GradientTape``.
The probabilities given to a loss are plain tensors, not a Keras sigmoid's output,
so Keras takes its probability path (clipping, renormalising) and not the logits
shortcut (docs/conventions.md#cross-entropy).
"""

from __future__ import annotations

# keras_config first: it sets KERAS_BACKEND and TF_ENABLE_ONEDNN_OPTS before Keras and TensorFlow load.
from .keras_config import keras, keras_dtype  # isort: skip

import numpy as np
import tensorflow as tf
from keras import ops

from .keras_twin import ACTIVATIONS, half_sum_squared_error

# (loss, convention) -> a function that builds the Keras loss (made under float64: a Keras
# Loss casts to the floatx it was made with).
LOSSES = {
    ("mse", None): lambda: keras.losses.MeanSquaredError(),
    ("half_sse", None): lambda: half_sum_squared_error,
    ("bce", "keras"): lambda: keras.losses.BinaryCrossentropy(),
    ("bce_logits", None): lambda: keras.losses.BinaryCrossentropy(from_logits=True),
    ("cce", "keras"): lambda: keras.losses.CategoricalCrossentropy(),
    ("cce_logits", None): lambda: keras.losses.CategoricalCrossentropy(from_logits=True),
}


# reference initializer -> the Keras initializer (normals are truncated at 2 standard deviations)
INITIALIZERS = {
    "zeros": lambda seed: keras.initializers.Zeros(),
    "normal": lambda seed, scale: keras.initializers.RandomNormal(stddev=scale, seed=seed),
    "uniform": lambda seed, low, high: keras.initializers.RandomUniform(low, high, seed=seed),
    "glorot_uniform": lambda seed: keras.initializers.GlorotUniform(seed=seed),
    "glorot_normal": lambda seed: keras.initializers.GlorotNormal(seed=seed),
    "he_normal": lambda seed: keras.initializers.HeNormal(seed=seed),
    "he_uniform": lambda seed: keras.initializers.HeUniform(seed=seed),
}


def _tensor(array):
    return ops.convert_to_tensor(np.asarray(array, dtype=np.float64))


def activation(name: str, z: np.ndarray, da: np.ndarray) -> dict[str, np.ndarray]:
    """{"a": f(z), "dz": da * f'(z) (the vector-Jacobian product, by GradientTape)}."""
    fn = keras.activations.get(ACTIVATIONS[name])
    zt = _tensor(z)
    with tf.GradientTape() as tape:
        tape.watch(zt)
        a = fn(zt)
    dz = tape.gradient(a, zt, output_gradients=_tensor(da))
    return {"a": np.asarray(a), "dz": np.asarray(dz)}


def loss(name: str, convention: str | None, pred: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """{"loss": L(pred, y), "dpred": dL/dpred}."""
    with keras_dtype("float64"):
        fn = LOSSES[(name, convention)]()
    p = _tensor(pred)
    with tf.GradientTape() as tape:
        tape.watch(p)
        value = fn(_tensor(y), p)
    return {"loss": np.asarray(value), "dpred": np.asarray(tape.gradient(value, p))}


def initializer(name: str, kwargs: dict, fan_in: int, fan_out: int, seed: int) -> np.ndarray:
    """A kernel (fan_in, fan_out) drawn by the Keras initializer."""
    init = INITIALIZERS[name](seed, **kwargs)
    return np.asarray(init((fan_in, fan_out), dtype="float64"))
