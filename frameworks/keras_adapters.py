"""Keras optimizers that compute torch's formulas, for a model ported from torch that must train the same.

Where no setting of ``keras.optimizers.Adam`` or ``RMSprop`` gives torch's numbers (the
epsilon sits elsewhere: docs/conventions-optimizers.md), these subclasses replace only
``update_step``; Keras's clipping, weight decay (decoupled), schedules and variables stay.
Pass hyper-parameters as ``np.float64`` in a float64 model (docs/conventions.md#float32-casts).
Each is held to ``torch.optim`` at the float64 tolerance by ``conformance/tests/test_adapters.py``.
``nnparity translate "torch.optim.Adam(...)"`` names them.
"""

from __future__ import annotations

from .keras_config import keras  # isort: skip

ops = keras.ops


class TorchAdam(keras.optimizers.Adam):
    """``keras.optimizers.Adam`` with torch's epsilon, after the bias correction::

        m = beta_1 * m + (1 - beta_1) * g;   v = beta_2 * v + (1 - beta_2) * g**2
        p = p - learning_rate / (1 - beta_1**t) * m / (sqrt(v) / sqrt(1 - beta_2**t) + epsilon)

    torch ``Adam(lr, betas, eps)`` is ``TorchAdam(learning_rate=lr, beta_1, beta_2, epsilon=eps)``.
    """

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr, g = ops.cast(learning_rate, dtype), ops.cast(gradient, dtype)
        t = ops.cast(self.iterations + 1, dtype)
        b1, b2 = ops.cast(self.beta_1, dtype), ops.cast(self.beta_2, dtype)
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        self.assign(m, b1 * m + (1 - b1) * g)
        self.assign(v, b2 * v + (1 - b2) * ops.square(g))
        denom = ops.sqrt(v) / ops.sqrt(1 - ops.power(b2, t)) + ops.cast(self.epsilon, dtype)
        self.assign_sub(variable, lr / (1 - ops.power(b1, t)) * m / denom)


class TorchRMSprop(keras.optimizers.RMSprop):
    """``keras.optimizers.RMSprop`` with torch's epsilon, outside the root, and torch's momentum buffer::

        v = rho * v + (1 - rho) * g**2;   mg = rho * mg + (1 - rho) * g  (centered)
        denom = sqrt(v - mg**2 if centered else v) + epsilon
        b = momentum * b + g / denom;  p = p - learning_rate * b     (p = p - learning_rate * g / denom without)

    torch ``RMSprop(lr, alpha, eps, momentum, centered)`` is ``TorchRMSprop(learning_rate=lr, rho=alpha,
    epsilon=eps, momentum, centered)``.
    """

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr, g, rho = ops.cast(learning_rate, dtype), ops.cast(gradient, dtype), ops.cast(self.rho, dtype)
        index = self._get_variable_index(variable)
        v = self._velocities[index]
        self.assign(v, rho * v + (1 - rho) * ops.square(g))
        var = v
        if self.centered:
            mg = self._average_gradients[index]
            self.assign(mg, rho * mg + (1 - rho) * g)
            var = v - ops.square(mg)
        step = g / (ops.sqrt(var) + ops.cast(self.epsilon, dtype))
        if self.momentum > 0:
            b = self._momentums[index]
            self.assign(b, ops.cast(self.momentum, dtype) * b + step)
            step = b
        self.assign_sub(variable, lr * step)
