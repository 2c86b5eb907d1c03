"""Keras optimizers that compute torch's formulas, for a model ported from torch that must train the same.

Where no setting of a Keras optimizer gives torch's numbers (Adam and AMSGrad, RMSprop, Adagrad, Adamax: the
epsilon sits elsewhere: docs/conventions-optimizers.md), these subclasses replace only
``update_step``; Keras's clipping, weight decay (decoupled), schedules and variables stay.
``TorchBatchNormalization`` does the same for torch's BatchNorm (its unbiased running variance).
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
        v_max = max(v_max, v) and v_max in place of v          (amsgrad=True)
        p = p - learning_rate / (1 - beta_1**t) * m / (sqrt(v) / sqrt(1 - beta_2**t) + epsilon)

    torch ``Adam(lr, betas, eps, amsgrad)`` is ``TorchAdam(learning_rate=lr, beta_1, beta_2, epsilon=eps, amsgrad)``.
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
        if self.amsgrad:
            v_max = self._velocity_hats[self._get_variable_index(variable)]
            self.assign(v_max, ops.maximum(v_max, v))
            v = v_max
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


class TorchAdagrad(keras.optimizers.Adagrad):
    """``keras.optimizers.Adagrad`` with torch's epsilon, outside the root::

        s = s + g**2   (s starts at initial_accumulator_value);   p = p - learning_rate * g / (sqrt(s) + epsilon)

    torch ``Adagrad(lr, eps, initial_accumulator_value)`` is ``TorchAdagrad(learning_rate=lr,
    initial_accumulator_value, epsilon=eps)`` (torch's default accumulator is 0, Keras's 0.1: pass it).
    """

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr, g = ops.cast(learning_rate, dtype), ops.cast(gradient, dtype)
        s = self._accumulators[self._get_variable_index(variable)]
        self.assign(s, s + ops.square(g))
        self.assign_sub(variable, lr * g / (ops.sqrt(s) + ops.cast(self.epsilon, dtype)))


class TorchAdamax(keras.optimizers.Adamax):
    """``keras.optimizers.Adamax`` with torch's epsilon, inside the max::

        m = beta_1 * m + (1 - beta_1) * g;   u = max(beta_2 * u, |g| + epsilon)
        p = p - learning_rate / (1 - beta_1**t) * m / u
    """

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr, g = ops.cast(learning_rate, dtype), ops.cast(gradient, dtype)
        t = ops.cast(self.iterations + 1, dtype)
        b1, b2 = ops.cast(self.beta_1, dtype), ops.cast(self.beta_2, dtype)
        m, u = self._m[self._get_variable_index(variable)], self._u[self._get_variable_index(variable)]
        self.assign(m, b1 * m + (1 - b1) * g)
        self.assign(u, ops.maximum(b2 * u, ops.abs(g) + ops.cast(self.epsilon, dtype)))
        self.assign_sub(variable, lr / (1 - ops.power(b1, t)) * m / u)


class TorchBatchNormalization(keras.layers.Layer):
    """torch's ``BatchNorm1d(units, eps, momentum)`` as a Keras layer: its unbiased running variance.

    Keras's ``BatchNormalization(momentum=1 - m, epsilon=eps)`` matches torch's training outputs and
    running mean, but updates its moving variance with the batch's biased variance; torch uses the
    unbiased one (x N/(N-1)), and no Keras setting does (docs/regularizers.md). In training::

        y = gamma * (x - mean) / sqrt(var + epsilon) + beta                 (var biased, as both)
        running_mean = (1 - momentum) * running_mean + momentum * mean      (torch's momentum, 0.1)
        running_var = (1 - momentum) * running_var + momentum * var * N / (N - 1)

    and in inference the running statistics in their place.
    """

    def __init__(self, momentum: float = 0.1, epsilon: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        self.momentum, self.epsilon = momentum, epsilon

    def build(self, input_shape):
        units = (input_shape[-1],)
        self.gamma = self.add_weight(shape=units, initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=units, initializer="zeros", name="beta")
        self.running_mean = self.add_weight(shape=units, initializer="zeros", trainable=False, name="running_mean")
        self.running_var = self.add_weight(shape=units, initializer="ones", trainable=False, name="running_var")

    def call(self, x, training=False):
        if training:
            n = ops.cast(ops.shape(x)[0], x.dtype)
            mean, var = ops.mean(x, axis=0), ops.var(x, axis=0)
            m = ops.cast(self.momentum, x.dtype)
            self.running_mean.assign((1 - m) * self.running_mean + m * mean)
            self.running_var.assign((1 - m) * self.running_var + m * var * n / (n - 1))
        else:
            mean, var = self.running_mean, self.running_var
        return self.gamma * (x - mean) / ops.sqrt(var + ops.cast(self.epsilon, x.dtype)) + self.beta
