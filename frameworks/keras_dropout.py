"""The Keras twin's Dropout: ``keras.layers.Dropout`` with the keep-mask handed in (``keras_twin.py``).

The frameworks' random generators differ, so the reference, PyTorch and Keras apply one mask drawn
with NumPy (``conformance.lessons.dropout_masks``; docs/conventions.md#dropout).
"""

from __future__ import annotations

# keras_config first: it sets KERAS_BACKEND and TensorFlow's flags before Keras loads.
from .keras_config import BACKEND, keras  # isort: skip

import numpy as np
from keras import ops

from reference.dropout import scaled_mask


class SharedMaskDropout(keras.layers.Layer):
    """``keras.layers.Dropout(rate)`` whose keep-mask is handed in, so the reference and torch apply the same one.

    In training: x * scaled_mask, with scaled_mask = keep * (1 / (1 - rate)) in the
    layer's dtype (``reference.dropout.scaled_mask``; docs/conventions.md#dropout: exact).
    With ``training=False``: x, as ``Dropout``. On TensorFlow the mask lives in a
    ``tf.Variable`` of unfixed shape, so a traced ``tf.function`` reads the current mask,
    whatever the batch size; on JAX and torch it is a tensor (on JAX, the compiled training step
    takes it as an argument: ``keras_gradients.jax_train_step``).
    """

    def __init__(self, rate: float, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.scaled_mask = None

    def set_keep_mask(self, keep: np.ndarray) -> None:
        value = scaled_mask(keep, self.rate, self.compute_dtype)
        if BACKEND != "tensorflow":
            self.scaled_mask = ops.convert_to_tensor(value)
            return
        import tensorflow as tf

        if self.scaled_mask is None:
            self.scaled_mask = tf.Variable(value, shape=tf.TensorShape(None), trainable=False)
        else:
            self.scaled_mask.assign(value)

    def call(self, inputs, training=None):
        if not training:
            return inputs
        if self.scaled_mask is None:
            raise RuntimeError(f"keras twin: {self.name} has no shared mask: call Twin.set_dropout_masks first")
        if BACKEND != "tensorflow":
            if tuple(self.scaled_mask.shape) != tuple(inputs.shape):
                raise ValueError(f"keras twin: {self.name}'s shared mask has shape {tuple(self.scaled_mask.shape)}, "
                                 f"but its input has shape {tuple(inputs.shape)}")
            return inputs * self.scaled_mask
        import tensorflow as tf

        mask = self.scaled_mask.read_value()
        if mask.shape.is_fully_defined() and inputs.shape.is_fully_defined() and mask.shape != inputs.shape:
            raise ValueError(f"keras twin: {self.name}'s shared mask has shape {tuple(mask.shape)}, "
                             f"but its input has shape {tuple(inputs.shape)}")
        # inside a tf.function the variable's shape is unknown: state it (and check it when it runs)
        return inputs * tf.ensure_shape(mask, inputs.shape)

    def compute_output_shape(self, input_shape):
        return input_shape
