"""A lesson in Keras 3: a ``Sequential`` of ``Dense`` and ``Activation`` layers, Keras losses and optimizers.

Keras reads its backend at import, so ``KERAS_BACKEND`` is set (to tensorflow,
unless the caller chose) before ``import keras``; one process hosts one backend,
and this one class serves them all (``backends.py``: ``keras`` is TensorFlow,
``keras-jax`` and ``keras-torch`` the others). Only gradients are computed per
backend (``keras_gradients.py``). On JAX, float64 needs ``jax_enable_x64``,
set here before Keras starts; without it JAX makes float32 variables, and the
twin refuses to build. Arrays come back in the dtype Keras computed them in, never
cast: the conformance checks compare their dtype too, so a silent downcast
(Keras 3.15 computes some float64 ops in float32 on JAX and torch, docs/backends.md)
fails and says so. The weights are never
initialised by Keras: they are loaded from the reference (``set_params``), in
the same ``(fan_in, units)`` layout.

float64 needs two settings (NUMERICS.md, item 8 and gotcha 1): ``set_floatx``
alone does not reach layers once any layer exists, because the dtype policy is
cached, so ``set_dtype_policy`` is set too, around every build. Hyper-parameters
are passed as ``np.float64``: a Python float would be rounded through float32
by ``ops.cast`` on the TensorFlow backend (gotcha 2).
"""

from __future__ import annotations

import contextlib
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # silence TF's start-up banner
# oneDNN's custom ops change float32 tf.function results bitwise (NUMERICS.md, item 8):
# off unless the caller chose, so results repeat from machine to machine.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

if os.environ["KERAS_BACKEND"] == "jax":
    import jax

    jax.config.update("jax_enable_x64", True)  # else float64 arrays silently become float32

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

from .backends import KERAS_BACKENDS  # noqa: E402
from .keras_gradients import GRADIENTS  # noqa: E402
from .layout import from_keras, to_keras  # noqa: E402

BACKEND = keras.backend.backend()
FRAMEWORK = {backend: name for name, backend in KERAS_BACKENDS.items()}[BACKEND]  # keras, keras-jax, ...


def half_sum_squared_error(y, p):
    """0.5 * sum((p - y)**2): Keras has no built-in for the classic XOR loss."""
    return 0.5 * ops.sum(ops.square(p - y))


def leaky_relu(z, slope=0.01):
    """z if z > 0 else slope * z, written with ops.where: TF's kernel rounds the slope to float32."""
    return ops.where(z > 0, z, slope * z)


ACTIVATIONS = {
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
    "leaky_relu": leaky_relu,
    "softmax": "softmax",
    "linear": "linear",
}

# Keras BCE/CCE on the output of a Keras sigmoid/softmax use the attached logits
# (NUMERICS.md, gotcha 4): exact, no clipping. The reference fuses the same way.
LOSSES = {
    "mse": lambda: keras.losses.MeanSquaredError(),
    "half_sse": lambda: half_sum_squared_error,
    "bce": lambda: keras.losses.BinaryCrossentropy(),
    "bce_logits": lambda: keras.losses.BinaryCrossentropy(from_logits=True),
    "cce": lambda: keras.losses.CategoricalCrossentropy(),
    "cce_logits": lambda: keras.losses.CategoricalCrossentropy(from_logits=True),
}


@contextlib.contextmanager
def keras_dtype(dtype: str):
    """floatx and the global dtype policy set to ``dtype`` (both: see module doc), then restored."""
    old_floatx, old_policy = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx(dtype)
    keras.config.set_dtype_policy(dtype)
    try:
        yield
    finally:
        keras.config.set_floatx(old_floatx)
        keras.config.set_dtype_policy(old_policy)


def build_model(sizes, activations, use_bias) -> keras.Sequential:
    """The lesson's network: Dense, Activation, Dense, Activation, ..."""
    layers = [keras.Input(shape=(sizes[0],))]
    for i, (units, activation) in enumerate(zip(sizes[1:], activations), start=1):
        layers.append(keras.layers.Dense(units, use_bias=use_bias, name=f"dense_{i}"))
        layers.append(keras.layers.Activation(ACTIVATIONS[activation], name=f"activation_{i}"))
    return keras.Sequential(layers)


class Twin:
    """The Keras side of a lesson: same operations as every twin."""

    framework = FRAMEWORK

    def __init__(self, lesson, dtype: str):
        self.lesson = lesson
        self.dtype = dtype
        with keras_dtype(dtype):
            self.model = build_model(lesson.sizes, lesson.activations, lesson.use_bias)
            # Every layer's output: z1, a1, z2, a2, ... in one call.
            self.trace_model = keras.Model(self.model.inputs, [layer.output for layer in self.model.layers])
            # A Keras Loss takes floatx as its dtype when it is made, and casts to it.
            self.loss_fn = LOSSES[lesson.loss]()
        self._named = {}
        for i, layer in enumerate(self.model.layers[::2], start=1):
            self._named[f"W{i}"] = layer.kernel
            if layer.bias is not None:
                self._named[f"b{i}"] = layer.bias
        # the array's own dtype: without x64, JAX holds float32 under a Variable that says float64
        held = {name: str(self._numpy(var.value).dtype) for name, var in self._named.items()}
        wrong = {name: dt for name, dt in held.items() if dt != dtype}
        if wrong:
            hint = " (JAX needs jax_enable_x64 before its first array)" if BACKEND == "jax" else ""
            raise RuntimeError(f"{self.framework} twin: variables {wrong} are not {dtype}: "
                               f"the dtype policy did not take effect{hint}")

    def _tensor(self, array):
        return ops.convert_to_tensor(np.asarray(array, dtype=self.dtype))

    @staticmethod
    def _numpy(tensor) -> np.ndarray:
        """``tensor`` as a NumPy array in the dtype Keras computed it in (never cast)."""
        return ops.convert_to_numpy(tensor)

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        for name, var in self._named.items():
            var.assign(np.asarray(to_keras(name, params[name]), dtype=self.dtype))

    def get_params(self) -> dict[str, np.ndarray]:
        return {name: from_keras(name, self._numpy(var.value).copy())
                for name, var in self._named.items()}

    def forward(self, X) -> dict[str, np.ndarray]:
        """Every layer's pre-activation z_l and activation a_l."""
        outputs = self.trace_model(self._tensor(X), training=False)
        out = {}
        for i in range(len(outputs) // 2):
            out[f"z{i + 1}"] = self._numpy(outputs[2 * i])
            out[f"a{i + 1}"] = self._numpy(outputs[2 * i + 1])
        return out

    def loss(self, X, y) -> np.floating:
        """The loss, as a NumPy scalar of the dtype Keras computed it in."""
        loss = self.loss_fn(self._tensor(y), self.model(self._tensor(X), training=True))
        return self._numpy(loss)[()]

    def _loss_and_grads(self, X, y):
        """(loss, dL/dX, [dL/dv for each variable]) by the backend's own autodiff (keras_gradients.py)."""
        return GRADIENTS[BACKEND](self.model, self.loss_fn, self._tensor(X), self._tensor(y),
                                  list(self._named.values()))

    def gradients(self, X, y) -> dict[str, np.ndarray]:
        """dL/dparameter for every parameter, and dL/dX (GradientTape, jax.grad or torch autograd)."""
        _, gx, gvars = self._loss_and_grads(X, y)
        grads = {name: from_keras(name, self._numpy(g)) for name, g in zip(self._named, gvars)}
        grads["X"] = self._numpy(gx)
        return grads

    def make_optimizer(self, name: str, hyper: dict):
        if name != "sgd":
            raise ValueError(f"keras twin: unknown optimizer {name!r}")
        with keras_dtype(self.dtype):
            return keras.optimizers.SGD(learning_rate=np.float64(hyper["learning_rate"]))

    def step(self, X, y, optimizer: str, hyper: dict) -> dict[str, np.ndarray]:
        """One optimizer step on (X, y) from the current weights; the weights after it."""
        opt = self.make_optimizer(optimizer, hyper)
        _, _, gvars = self._loss_and_grads(X, y)
        opt.apply_gradients(zip(gvars, list(self._named.values())))
        return self.get_params()
