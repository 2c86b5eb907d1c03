"""A lesson in Keras 3: a ``Sequential`` of ``Dense`` and ``Activation`` layers, Keras losses and optimizers.

Keras is set up before it loads (``keras_config.py``: the backend, TensorFlow's
flags, JAX's float64); one process hosts one backend, and this one class serves them
all (``backends.py``: ``keras`` is TensorFlow, ``keras-jax`` and ``keras-torch`` the
others). Only gradients, the compiled training step and the shared dropout mask's
storage differ per backend (``keras_gradients.py``). On JAX without ``jax_enable_x64``
JAX holds float32 arrays, and the twin refuses to build. Arrays come back in the
dtype Keras computed them in, never cast: the conformance checks compare their
dtype too, so a silent downcast (Keras 3.15 computes some float64 ops in float32
on JAX and torch, docs/backends.md) fails and says so. The weights are never
initialised by Keras: they are loaded from the reference (``set_params``), in
the same ``(fan_in, units)`` layout.

Every build runs under ``keras_dtype`` (floatx and the dtype policy, ``keras_config.py``).
Hyper-parameters are passed as ``np.float64``: a Python float would be rounded through
float32 by ``ops.cast`` on the TensorFlow backend (docs/conventions.md#keras-float64).

Training step by step is one loop, ``Twin.train``: one compiled step per batch (on
TensorFlow a ``tf.function``, the step ``model.fit`` runs: ``keras/src/backend/tensorflow/
trainer.py``, ``train_step``), called from Python; ``step`` is built on it. The whole run,
``fit``, is one compiled loop over the epochs (``keras_fit.py`` says why it is not ``train``
repeated), and ``train`` where a run cannot be one graph (dropout).
"""

from __future__ import annotations

# keras_config first: it sets KERAS_BACKEND, TensorFlow's flags and JAX's float64 before Keras loads.
from .keras_config import BACKEND, keras, keras_dtype  # isort: skip

import numpy as np
from keras import ops

from . import keras_fit
from .keras_arguments import keras_hyperparameters, keras_value
from .backends import KERAS_BACKENDS
from .keras_dropout import SharedMaskDropout
from .keras_gradients import GRADIENTS, jax_compiled, jax_train_step
from .keras_training_options import (
    class_weighted_cross_entropy,
    exponential_decay,
    with_regularization_losses,
)
from .layout import from_keras, to_keras

FRAMEWORK = {backend: name for name, backend in KERAS_BACKENDS.items()}[BACKEND]  # keras, keras-jax, ...


def half_sum_squared_error(y, p):
    """0.5 * sum((p - y)**2): Keras has no built-in for the classic XOR loss."""
    return 0.5 * ops.sum(ops.square(p - y))


def leaky_relu(z, slope=0.01):
    """z if z > 0 else slope * z, written with ops.where: TF's kernel rounds the slope to float32."""
    return ops.where(z > 0, z, slope * z)


def step_straight_through(z):
    """The perceptron's step, 1 if z >= 0 else 0, with gradient 1 (reference ``Step``).

    ``z - stop_gradient(z)`` is exactly 0 in value and has derivative 1, so the value
    is exactly step(z) and the tape passes the upstream gradient straight through.
    """
    return ops.cast(z >= 0, z.dtype) + (z - ops.stop_gradient(z))


ACTIVATIONS = {
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
    "leaky_relu": leaky_relu,
    "softmax": "softmax",
    "linear": "linear",
    "step": step_straight_through,
}

# Keras BCE/CCE on the output of a Keras sigmoid/softmax use the attached logits
# (docs/conventions.md#cross-entropy): exact, no clipping. The reference fuses the same way.
LOSSES = {
    "mse": lambda: keras.losses.MeanSquaredError(),
    "half_sse": lambda: half_sum_squared_error,
    "bce": lambda: keras.losses.BinaryCrossentropy(),
    "bce_logits": lambda: keras.losses.BinaryCrossentropy(from_logits=True),
    "cce": lambda: keras.losses.CategoricalCrossentropy(),
    "cce_logits": lambda: keras.losses.CategoricalCrossentropy(from_logits=True),
}

# reference optimizer name -> Keras optimizer (nnparity's hyper-parameters are Keras's names)
OPTIMIZERS = {
    "sgd": keras.optimizers.SGD,
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "rmsprop": keras.optimizers.RMSprop,
    "adagrad": keras.optimizers.Adagrad,  # and the four of reference/adaptive_optimizers.py:
    "nadam": keras.optimizers.Nadam,
    "adamax": keras.optimizers.Adamax,
    "amsgrad": lambda **hyper: keras.optimizers.Adam(amsgrad=True, **hyper),
    "adadelta": keras.optimizers.Adadelta,
}


# layer name prefix -> the stage's name in a trace (the reference's: z, bn, a, dropout)
TRACE_NAMES = {"dense": "z", "batchnorm": "bn", "layernorm": "ln", "activation": "a", "dropout": "dropout"}


def build_model(sizes, activations, use_bias, batchnorm=None, dropout=None, kernel_l2=0.0,
                layernorm=None) -> keras.Sequential:
    """The lesson's network: Dense, Activation, Dense, Activation, ...

    With the lesson's regularizers, each hidden layer is Dense, BatchNormalization (or
    LayerNormalization), Activation, dropout; ``batchnorm`` is (momentum, epsilon), Keras's own
    meaning; ``layernorm`` LayerNormalization's epsilon, given explicitly (Keras's default 1e-3 is
    not torch's 1e-5); ``kernel_l2`` puts ``kernel_regularizer=L2(kernel_l2)`` on every Dense.
    """
    layers = [keras.Input(shape=(sizes[0],))]
    regularizer = keras.regularizers.L2(kernel_l2) if kernel_l2 else None
    for i, (units, activation) in enumerate(zip(sizes[1:], activations), start=1):
        hidden = i < len(sizes) - 1
        # Keras's own initial weights are never used (Twin.set_params loads the reference's): "zeros" skips
        # drawing them, which on JAX costs a compiled random program per layer shape (~0.2 s each).
        layers.append(keras.layers.Dense(units, use_bias=use_bias, kernel_initializer="zeros",
                                         kernel_regularizer=regularizer, name=f"dense_{i}"))
        if batchnorm and hidden:
            layers.append(keras.layers.BatchNormalization(momentum=batchnorm[0], epsilon=batchnorm[1],
                                                          name=f"batchnorm_{i}"))
        if layernorm is not None and hidden:
            layers.append(keras.layers.LayerNormalization(epsilon=layernorm, name=f"layernorm_{i}"))
        layers.append(keras.layers.Activation(ACTIVATIONS[activation], name=f"activation_{i}"))
        if dropout and hidden:
            layers.append(SharedMaskDropout(dropout, name=f"dropout_{i}"))
    return keras.Sequential(layers)


class Twin:
    """The Keras side of a lesson: same operations as every twin."""

    framework = FRAMEWORK

    def __init__(self, lesson, dtype: str):
        self.lesson = lesson
        self.dtype = dtype
        with keras_dtype(dtype):
            batchnorm = (lesson.batchnorm_momentum, lesson.batchnorm_epsilon) if lesson.batchnorm else None
            self.model = build_model(lesson.sizes, lesson.activations, lesson.use_bias, batchnorm=batchnorm,
                                     dropout=lesson.dropout, kernel_l2=lesson.kernel_l2,
                                     layernorm=lesson.layernorm_epsilon if lesson.layernorm else None)
            # Every layer's output in one call: {"z1": ..., "a1": ..., "z2": ...} (and bn_l, ln_l, dropout_l).
            outputs = {}
            for layer in self.model.layers:
                kind, l = layer.name.rsplit("_", 1)
                outputs[f"{TRACE_NAMES[kind]}{l}"] = layer.output
            self.trace_model = keras.Model(self.model.inputs, outputs)
            # A Keras Loss takes floatx as its dtype when it is made, and casts to it.
            self.loss_fn = LOSSES[lesson.loss]()
            if lesson.class_weights:  # Keras divides by N unless told to divide by the weights' sum
                self.loss_fn = class_weighted_cross_entropy(lesson.class_weights, lesson.class_weight_divisor)
            if lesson.kernel_l2:
                self.loss_fn = with_regularization_losses(self.loss_fn, self.model)
        self._named = {}  # trained variables, by reference name
        self._trainers = {}  # (optimizer, hyper) -> its compiled train step (see _trainer)
        self._state = {}  # BatchNormalization's moving statistics: moved by every training call
        for i in range(1, lesson.n_layers + 1):
            dense = self.model.get_layer(f"dense_{i}")
            self._named[f"W{i}"] = dense.kernel
            if dense.bias is not None:
                self._named[f"b{i}"] = dense.bias
            if lesson.batchnorm and i < lesson.n_layers:
                bn = self.model.get_layer(f"batchnorm_{i}")
                self._named[f"gamma{i}"], self._named[f"beta{i}"] = bn.gamma, bn.beta
                self._state[f"moving_mean{i}"], self._state[f"moving_variance{i}"] = bn.moving_mean, bn.moving_variance
            if lesson.layernorm and i < lesson.n_layers:
                norm = self.model.get_layer(f"layernorm_{i}")
                self._named[f"gamma{i}"], self._named[f"beta{i}"] = norm.gamma, norm.beta
        # the arrays' own dtype: without x64, JAX holds float32 under a Variable that says float64
        held = {name: str(self._numpy(var.value).dtype) for name, var in {**self._named, **self._state}.items()}
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
        for name, var in {**self._named, **self._state}.items():
            var.assign(np.asarray(to_keras(name, params[name]), dtype=self.dtype))

    def get_params(self) -> dict[str, np.ndarray]:
        """Every parameter, and BatchNormalization's moving statistics, in the reference layout."""
        named = {**self._named, **self._state}
        return {name: from_keras(name, self._numpy(var.value).copy()) for name, var in named.items()}

    def set_dropout_masks(self, masks: dict[str, np.ndarray]) -> None:
        """The boolean keep-masks {"dropout1": (N, units), ...} every training call applies."""
        dropouts = {layer.name.replace("_", ""): layer for layer in self.model.layers
                    if isinstance(layer, SharedMaskDropout)}  # dropout_1 -> "dropout1"
        if set(masks) != set(dropouts):
            raise ValueError(f"keras twin: expected masks {sorted(dropouts)}. Received: {sorted(masks)}")
        for name, layer in dropouts.items():
            layer.set_keep_mask(masks[name])

    def forward(self, X, training: bool = True) -> dict[str, np.ndarray]:
        """Every stage of every layer: z_l, a_l (and bn_l, dropout_l), called with ``training``."""
        if BACKEND == "jax":  # one compiled call (keras_gradients.jax_compiled), not op by op
            outputs = jax_compiled(self.trace_model, ("forward", training),
                                   lambda x: self.trace_model(x, training=training), self._tensor(X))
        else:
            outputs = self.trace_model(self._tensor(X), training=training)
        return {name: self._numpy(value) for name, value in outputs.items()}

    def dz(self, X, y) -> dict[str, np.ndarray]:
        """dL/dz_l of every layer, by ``tf.GradientTape`` on the layers' outputs (z1, a1, z2, ...)."""
        if BACKEND != "tensorflow":
            raise NotImplementedError(f"{self.framework} twin: dL/dz of every layer is taken with "
                                      "tf.GradientTape, on the TensorFlow backend only (framework keras)")
        import tensorflow as tf

        n = self.lesson.n_layers
        with tf.GradientTape() as tape:
            outputs = self.trace_model(self._tensor(X), training=True)
            loss = self.loss_fn(self._tensor(y), outputs[f"a{n}"])
        zs = [outputs[f"z{l}"] for l in range(1, n + 1)]
        grads = tape.gradient(loss, zs)
        return {f"dz{l}": np.asarray(g) for l, g in enumerate(grads, start=1)}

    def loss(self, X, y) -> np.floating:
        """The loss, as a NumPy scalar of the dtype Keras computed it in."""
        if BACKEND == "jax":  # one compiled call (keras_gradients.jax_compiled), not op by op
            loss = jax_compiled(self.model, "loss", lambda x, y: self.loss_fn(y, self.model(x, training=True)),
                                self._tensor(X), self._tensor(y))
        else:
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

    def fit(self, X, y, optimizer: str, hyper: dict, epochs: int, batches, record_every=None, dropout_masks=None):
        """The lesson's whole training run from the current weights: (loss curve, snapshots) (``keras_fit.py``)."""
        if BACKEND != "tensorflow":
            raise NotImplementedError(f"{self.framework} twin: the whole training run is a compiled "
                                      "tf.function loop (keras_fit.py), on the TensorFlow backend only")
        return keras_fit.fit(self, X, y, optimizer, hyper, epochs, batches, record_every, dropout_masks)

    def make_optimizer(self, name: str, hyper: dict):
        """``keras.optimizers`` optimizer ``name`` from its (Keras-named) hyper-parameters."""
        if name not in OPTIMIZERS:
            raise ValueError(f"keras twin: unknown optimizer {name!r}; expected one of {sorted(OPTIMIZERS)}")
        hyper = keras_hyperparameters(name, hyper, self.dtype)  # keras_arguments.py
        if self.lesson.lr_schedule:  # np.float64 numbers in float64: Keras then computes the schedule in float64
            hyper["learning_rate"] = exponential_decay(hyper["learning_rate"], self.lesson.lr_schedule,
                                                       lambda value: keras_value(value, self.dtype))
        with keras_dtype(self.dtype):  # the learning-rate and state variables take floatx when made
            return OPTIMIZERS[name](**hyper)

    def _trainer(self, optimizer: str, hyper: dict):
        """(optimizer, compiled train step, the optimizer's initial variables), built once per optimizer setting.

        On TensorFlow the step is a ``tf.function`` (one trace for every batch size:
        the batch axis is None); on JAX, ``jax.jit`` of Keras's stateless step
        (``keras_gradients.jax_train_step``, compiled once per batch shape); on torch
        it runs eagerly, with torch's gradients (``keras_gradients.py``). ``train`` restores the optimizer's variables
        (iterations, learning rate, moments, accumulators) to their initial values before
        each run, which makes it a fresh optimizer without rebuilding or retracing.
        """
        key = (optimizer, tuple(sorted(hyper.items())))
        if key not in self._trainers:
            variables = list(self._named.values())
            opt = self.make_optimizer(optimizer, hyper)
            with keras_dtype(self.dtype):
                opt.build(variables)
            initial = [self._numpy(v.value).copy() for v in opt.variables]
            if BACKEND == "jax":
                self._trainers[key] = (opt, jax_train_step(self.model, self.loss_fn, opt, variables), initial)
                return self._trainers[key]
            if BACKEND != "tensorflow":
                def train_step(x, y):
                    loss, _, grads = GRADIENTS[BACKEND](self.model, self.loss_fn, x, y, variables)
                    opt.apply(grads, variables)
                    return loss

                self._trainers[key] = (opt, train_step, initial)
                return self._trainers[key]
            import tensorflow as tf

            signature = [tf.TensorSpec((None, self.lesson.sizes[0]), self.dtype),
                         tf.TensorSpec((None, self.lesson.sizes[-1]), self.dtype)]

            @tf.function(input_signature=signature, jit_compile=False)
            def train_step(x, y):
                with tf.GradientTape() as tape:
                    loss = self.loss_fn(y, self.model(x, training=True))
                opt.apply(tape.gradient(loss, variables), variables)
                return loss

            # The traced graph itself: calling it skips tf.function's matching of the arguments against
            # its signature, half of a call's cost on a lesson net (spiral: 0.27 ms a step instead of 0.54).
            with keras_dtype(self.dtype):
                self._trainers[key] = (opt, train_step.get_concrete_function(), initial)
        return self._trainers[key]

    def train(self, X, y, optimizer: str, hyper: dict, batches, record, learning_rates=None,
              dropout_masks=None, on_step=None) -> dict:
        """One step per batch of indices in ``batches``, from the current weights, with a fresh optimizer.

        Returns {k: the weights after step k} for every k in ``record``. ``learning_rates``
        (one per step, optional) is a schedule: ``optimizer.learning_rate`` is set before each step.
        ``dropout_masks(k - 1, len(idx))`` (optional) gives the keep-masks of step k.
        ``on_step(k, loss)`` (optional) gets step k's loss before its update, a NumPy scalar.
        """
        if dropout_masks is not None and len(batches):  # the masks exist before the step is traced (TensorFlow)
            self.set_dropout_masks(dropout_masks(0, len(batches[0])))
        opt, train_step, initial = self._trainer(optimizer, hyper)
        for var, value in zip(opt.variables, initial):
            var.assign(value)
        X, y = np.asarray(X), np.asarray(y)
        out, tensors = {}, {}  # each distinct batch converted once (full-batch lessons: one batch)
        with keras_dtype(self.dtype):
            for k, idx in enumerate(batches, start=1):
                if learning_rates is not None:
                    opt.learning_rate = keras_value(learning_rates[k - 1], self.dtype)
                if dropout_masks is not None:
                    self.set_dropout_masks(dropout_masks(k - 1, len(idx)))
                key = np.asarray(idx).tobytes()
                if key not in tensors:
                    tensors[key] = (self._tensor(X[idx]), self._tensor(y[idx]))
                loss = train_step(*tensors[key])
                if on_step is not None:
                    on_step(k, self._numpy(loss)[()])
                if k in record:
                    out[k] = self.get_params()
        return out

    def step(self, X, y, optimizer: str, hyper: dict) -> dict[str, np.ndarray]:
        """One optimizer step on all of (X, y) from the current weights; the weights after it."""
        return self.train(X, y, optimizer, hyper, [np.arange(len(X))], record=(1,))[1]
