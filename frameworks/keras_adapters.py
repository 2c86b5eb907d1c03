"""Keras optimizers that compute torch's formulas, for a model ported from torch that must train the same.

Where no setting of a Keras optimizer gives torch's numbers (Adam and AMSGrad, RMSprop, Adagrad, Adamax: the
epsilon sits elsewhere: docs/conventions-optimizers.md), these subclasses replace only
``update_step``; Keras's clipping, weight decay (decoupled), schedules and variables stay.
``TorchBatchNormalization`` does the same for torch's BatchNorm (its unbiased running variance), ``TorchNAdam``
for torch's NAdam (its ``momentum_decay``), ``torch_gelu``/``TorchGELU`` and ``torch_selu`` for torch's GELU
(float64 constants) and SELU (its derivative at 0): docs/conventions-activations.md.
Pass hyper-parameters as ``np.float64`` in a float64 model (docs/conventions.md#float32-casts).
Each is held to ``torch.optim`` at the float64 tolerance by ``conformance/tests/test_adapters.py`` (the
activations to ``torch.nn.functional`` by ``conformance/tests/test_activation_adapters.py``).
``nnparity translate "torch.optim.Adam(...)"`` names them.
"""

from __future__ import annotations

import numpy as np

from reference.activation_conventions import SELU

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


def torch_gelu(x, approximate: str = "none"):
    """torch's ``F.gelu(x, approximate)`` in Keras, its constants in the input's dtype::

        exact ("none"):   gelu(x) = 0.5 * x * (1 + erf(x / sqrt(2)))
        "tanh":           gelu(x) = 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))

    Keras's ``activations.gelu`` (exact) and ``ops.gelu(approximate=True)`` compute the same formulas, but
    TensorFlow casts 1/sqrt(2) and 0.044715 from a Python float, through float32
    (docs/conventions.md#float32-casts), and no argument changes that: in float64 they are 5.649e-9 (exact) and
    9.790e-10 (tanh) from torch (docs/conventions-activations.md). Here the constants are NumPy float64 numbers,
    cast to the input's dtype, and Keras differentiates the formula: torch's values and gradients to 1e-12.
    ``Dense(units, activation=torch_gelu)``, or ``TorchGELU(approximate)`` as a layer.
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"torch_gelu: approximate must be 'none' or 'tanh' (torch's). Received: approximate={approximate!r}")
    x = ops.convert_to_tensor(x)

    def constant(value: float):
        return ops.cast(np.float64(value), x.dtype)  # a NumPy float64: exact (a Python float would go through float32)

    if approximate == "tanh":
        inner = constant(np.sqrt(2 / np.pi)) * (x + constant(0.044715) * x * x * x)
        return 0.5 * x * (1 + ops.tanh(inner))
    return 0.5 * x * (1 + ops.erf(x * constant(1 / np.sqrt(2))))


class TorchGELU(keras.layers.Layer):
    """torch's ``nn.GELU(approximate)`` as a Keras layer: ``torch_gelu`` (its float64 constants)."""

    def __init__(self, approximate: str = "none", **kwargs):
        super().__init__(**kwargs)
        self.approximate = approximate

    def call(self, x):
        return torch_gelu(x, self.approximate)

    def get_config(self):
        return {**super().get_config(), "approximate": self.approximate}


@keras.ops.custom_gradient
def torch_selu(x):
    """torch's ``F.selu`` in Keras: Keras's values, torch's derivative at exactly 0::

        selu(x)  = scale * x if x > 0 else scale * alpha * (exp(x) - 1)
        selu'(x) = scale if x > 0 else scale * alpha * exp(x)       (torch: the left branch at x = 0)

    Keras's ``activations.selu`` (TensorFlow's ``SeluGrad``) gives selu'(0) = scale = 1.0507, torch
    scale * alpha = 1.7581: 7.074e-1 apart at x = 0 only, and no argument of either moves it
    (docs/conventions-activations.md). ``Dense(units, activation=torch_selu)``.
    """
    x = ops.convert_to_tensor(x)
    scale, alpha = ops.cast(np.float64(SELU.scale), x.dtype), ops.cast(np.float64(SELU.alpha), x.dtype)
    y = keras.activations.selu(x)

    def grad(*args, upstream=None):
        upstream = args[0] if upstream is None else upstream
        return upstream * ops.where(x > 0, scale, scale * alpha * ops.exp(ops.minimum(x, 0)))

    return y, grad


class TorchNAdam(keras.optimizers.Optimizer):
    """torch's ``NAdam(lr, betas, eps, momentum_decay)`` as a Keras optimizer, ``momentum_decay`` included::

        mu_t = beta_1 * (1 - 0.5 * 0.96**(t * momentum_decay));   P_t = mu_1 * ... * mu_t  (in float32, as torch)
        m = beta_1 * m + (1 - beta_1) * g;   v = beta_2 * v + (1 - beta_2) * g**2
        denom = sqrt(v / (1 - beta_2**t)) + epsilon
        p = p - learning_rate * ((1 - mu_t) / (1 - P_t) * g + mu_{t+1} / (1 - P_t * mu_{t+1}) * m) / denom

    Keras's ``Nadam`` has no ``momentum_decay`` (it computes torch's ``momentum_decay=1``, its 0.96 rounded
    through float32): with torch's default 4e-3 the two are 5.667e-3 apart after 20 steps, and even
    ``NAdam(momentum_decay=1.0)`` 3.2e-9 (docs/conventions-optimizers.md). torch keeps ``P_t`` in a
    tensor of its default dtype (float32); so does this. torch's defaults (lr 2e-3, eps 1e-8); Keras's
    ``weight_decay`` is decoupled (torch's ``NAdam(decoupled_weight_decay=True)``).
    """

    def __init__(self, learning_rate=2e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8, momentum_decay=4e-3, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon, self.momentum_decay = beta_1, beta_2, epsilon, momentum_decay

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["momentum", "velocity"])
        self._mu_product = self.add_variable((), initializer="ones", dtype="float32", name="mu_product")

    def _mu(self, t, dtype):
        """``mu_t`` in ``dtype``, from NumPy float64 constants (exact; a Python float would go through float32)."""
        exponent = t * ops.cast(np.float64(self.momentum_decay), dtype)
        return ops.cast(self.beta_1, dtype) * (1 - 0.5 * ops.power(ops.cast(np.float64(0.96), dtype), exponent))

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        mu = self._mu(ops.cast(self.iterations + 1, "float64"), "float64")
        self.assign(self._mu_product, self._mu_product * ops.cast(mu, "float32"))  # P_t, once a step
        super()._backend_update_step(grads, trainable_variables, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr, g = ops.cast(learning_rate, dtype), ops.cast(gradient, dtype)
        t = ops.cast(self.iterations + 1, dtype)
        b1, b2 = ops.cast(self.beta_1, dtype), ops.cast(self.beta_2, dtype)
        mu, mu_next = self._mu(t, dtype), self._mu(t + 1, dtype)
        product = ops.cast(self._mu_product, dtype)
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        self.assign(m, b1 * m + (1 - b1) * g)
        self.assign(v, b2 * v + (1 - b2) * ops.square(g))
        denom = ops.sqrt(v / (1 - ops.power(b2, t))) + ops.cast(self.epsilon, dtype)
        step = (1 - mu) / (1 - product) * g + mu_next / (1 - product * mu_next) * m
        self.assign_sub(variable, lr * step / denom)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "momentum_decay": self.momentum_decay}
