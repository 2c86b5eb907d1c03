"""The Keras model of a pair, rebuilt in the dtype asked for and loaded with the torch model's weights.

Each layer is rebuilt from its own config (``type(layer).from_config``) with the dtype replaced, so
the user's model is never touched and a float32 model is compared in float64 when asked. A
``Dense(activation=...)`` becomes the same Dense without its activation followed by
``Activation(...)`` (what ``Dense.call`` computes: ``activation(x @ kernel + bias)``), so that the
pre-activation is a quantity of its own. ``overrides`` changes settings of the rebuild (a layer's
momentum, the optimizer's epsilon): ``explain.py`` verifies a fix this way.

The weights come from the torch model, through ``frameworks/layout.py`` (the one transpose).
Hyper-parameters go in as ``np.float64`` in float64 (docs/conventions.md#keras-float64), and a
value that Keras stored in a float32 variable (an optimizer's learning rate built in float32:
0.0010000000474974513) is read back as the shortest decimal that rounds to it (0.001). Gradients
of every forward quantity are taken with ``tf.GradientTape``: the TensorFlow backend only.
"""

from __future__ import annotations

import contextlib
import logging

import numpy as np

from frameworks.layout import to_keras

from .pairing import Pair
from .specs import PairError


def _keras():
    from frameworks.keras_twin import BACKEND, keras, keras_dtype

    if BACKEND != "tensorflow":
        raise PairError(f"compare_models runs Keras on its TensorFlow backend only (it takes dL/d of every layer "
                        f"with tf.GradientTape); this process's Keras backend is {BACKEND}: set KERAS_BACKEND=tensorflow")
    return keras, keras_dtype


class _RetracingWarning(logging.Filter):
    """TensorFlow's warning that a tf.function retraced: each comparison builds its own layers, so its step
    function is new each time by design, and the warning (after 5 comparisons) would point at nothing wrong."""

    def filter(self, record) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


@contextlib.contextmanager
def _quiet_retracing():
    logger, quiet = logging.getLogger("tensorflow"), _RetracingWarning()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def decimal(value):
    """A float that a float32 variable held, as the decimal the user most likely wrote (module doc)."""
    if isinstance(value, (float, np.floating)) and not isinstance(value, bool) and float(np.float32(value)) == value:
        return float(str(np.float32(value)))
    return value


def _hyper(value, dtype: str):
    if isinstance(value, bool) or not isinstance(value, (float, np.floating)):
        return value
    return np.float64(decimal(value)) if dtype == "float64" else float(value)


class KerasSide:
    """The rebuilt layers, their variables by the pair's names, and the loss, in ``dtype``."""

    def __init__(self, pair: Pair, keras_loss, dtype: str, overrides: dict | None = None):
        keras, keras_dtype = _keras()
        self.keras, self.keras_dtype, self.pair, self.dtype = keras, keras_dtype, pair, dtype
        overrides = overrides or {}
        self.layers = {}  # position -> (rebuilt layer, its activation layer or None)
        self.added = set()  # Dense positions given an activation by ``overrides`` (a fix being tried)
        with keras_dtype(dtype):
            for spec in pair.keras_specs:
                changed = overrides.get(spec.position, {})
                config = dict(spec.layer.get_config(), dtype=dtype, **changed)
                if spec.kind == "dense" and spec.config.get("dense_activation") == "linear" \
                        and config.get("activation", "linear") != "linear":
                    self.added.add(spec.position)
                activation = self._activation(spec, changed) if spec.kind == "dense" else None
                self.layers[spec.position] = (self._rebuild(spec, config, changed), activation)
            self.loss = self._loss(keras_loss)
            first = pair.keras_specs[0]
            self.model = keras.Sequential([keras.Input((self._fan_in(first),), dtype=dtype),
                                           *[layer for layer, _ in self.layers.values()]])
        self.variables = {p.name: getattr(self.layers[p.keras[0].position][0], p.keras[1]) for p in pair.params}

    def _rebuild(self, spec, config: dict, overrides: dict):
        """The layer from its config in the dtype; an ``Activation`` keeps the user's function itself (its config
        names ``keras.ops.gelu`` "gelu", which would come back as ``keras.activations.gelu``: exact, not tanh)."""
        if type(spec.layer).__name__ == "Activation" and "activation" not in overrides:
            return self.keras.layers.Activation(spec.layer.activation, dtype=self.dtype, name=spec.layer.name)
        if spec.kind == "dense":
            config = dict(config, activation="linear")
        return type(spec.layer).from_config(config)

    def _activation(self, spec, overrides: dict):
        """A Dense's activation as a layer of its own: the user's function, or the one ``overrides`` sets."""
        return self.keras.layers.Activation(overrides.get("activation", spec.layer.activation), dtype=self.dtype)

    @staticmethod
    def _fan_in(spec) -> int:
        return spec.config.get("in") or spec.config["units"]

    def _loss(self, keras_loss):
        """A Keras Loss rebuilt under the dtype (it casts to the floatx it was made under); a function as it is."""
        if hasattr(keras_loss, "get_config") and hasattr(type(keras_loss), "from_config"):
            return type(keras_loss).from_config(keras_loss.get_config())
        return keras_loss

    def load(self, params: dict[str, np.ndarray]) -> None:
        for name, var in self.variables.items():
            var.assign(np.asarray(to_keras(name, params[name]), dtype=self.dtype))

    def params(self) -> dict[str, np.ndarray]:
        return {name: np.array(var.numpy()) for name, var in self.variables.items()}

    def _tensor(self, array):
        array = np.asarray(array)
        return self.keras.ops.convert_to_tensor(array if np.issubdtype(array.dtype, np.integer)
                                                else array.astype(self.dtype))

    def forward(self, x) -> dict:
        """{point: output} of one training-mode pass, every stage in order (dropouts left out).

        An activation that ``overrides`` added to a Dense runs where the pair's next point begins (the
        activations after that Dense), so the Dense's own output stays its pre-activation."""
        outs, h, pending = {}, x, None
        for point in self.pair.points:
            if pending is not None:
                h, pending = pending(h), None
            for stage in point.keras:
                layer, activation = self.layers[stage.spec.position]
                if stage.part == "activation" and stage.spec.kind == "dense":
                    h = activation(h)
                elif stage.spec.kind == "batchnorm":
                    h = layer(h, training=True)
                else:
                    h = layer(h)
                if stage.part == "dense" and stage.spec.position in self.added:
                    pending = activation
            outs[point.name] = h
        return outs

    def inspect(self, X, y) -> dict[str, np.ndarray]:
        """Forward points, the loss, dL/d each point, each gradient, dL/dX (``tf.GradientTape``)."""
        import tensorflow as tf

        initial = self.params()
        x, target = self._tensor(X), self._tensor(y)
        trained = [self.variables[p.name] for p in self.pair.trained]
        with tf.GradientTape() as tape:
            tape.watch(x)
            outs = self.forward(x)
            loss = self.loss(target, outs[self.pair.points[-1].name])
        names = list(outs)
        grads = tape.gradient(loss, [x, *[outs[n] for n in names], *trained])
        found = {name: np.array(v) for name, v in outs.items()}
        found["loss"] = np.array(loss)
        for name, g in zip(names, grads[1:1 + len(names)]):
            found[f"dL/d{name}"] = None if g is None else np.array(g)  # None: not on the loss's path (logits)
        for p, g in zip(self.pair.trained, grads[1 + len(names):]):
            found[f"dL/d{p.name}"] = np.array(g)
        found["dL/dX"] = np.array(grads[0])
        self.load(initial)  # the training-mode pass moved BatchNorm's moving statistics
        return found

    def optimizer(self, keras_optimizer, overrides: dict | None = None):
        """A fresh optimizer of the user's class and settings (``overrides`` applied), hyper-parameters in dtype."""
        config = {k: _hyper(v, self.dtype) for k, v in keras_optimizer.get_config().items()}
        config.update({k: _hyper(v, self.dtype) for k, v in (overrides or {}).items()})
        with self.keras_dtype(self.dtype):
            opt = type(keras_optimizer).from_config(config)
            if isinstance(getattr(opt, "rho", None), np.floating) and type(opt).__name__ == "Adadelta":
                # Adadelta writes rho * variable: a NumPy float64 on the left would ask the variable for
                # its NumPy value, which a tf.function has not; a float64 tensor holds the same number
                opt.rho = self.keras.ops.convert_to_tensor(opt.rho)
            return opt

    def trajectory(self, X, y, keras_optimizer, batches: list, overrides=None) -> list[dict[str, np.ndarray]]:
        """The parameters after each step, one step per batch of ``batches`` ((start, stop), in order), from the
        current weights (restored after).

        The steps run as one ``tf.function`` loop (as ``frameworks/keras_fit.py`` runs a lesson), every
        variable written to a ``TensorArray`` after each step: one call, not one per step."""
        import tensorflow as tf

        initial = self.params()
        names = list(self.variables)
        trained = [self.variables[p.name] for p in self.pair.trained]
        opt = self.optimizer(keras_optimizer, overrides)
        with self.keras_dtype(self.dtype):
            opt.build(trained)
        x_all, target_all = self._tensor(X), self._tensor(y)
        starts, stops = (tf.constant([b[i] for b in batches], dtype=tf.int32) for i in (0, 1))
        last = self.pair.points[-1].name

        @tf.function(jit_compile=False)
        def run(n):
            kept = [tf.TensorArray(self.variables[name].dtype, size=n) for name in names]
            for k in tf.range(n):
                x, target = x_all[starts[k]:stops[k]], target_all[starts[k]:stops[k]]
                with tf.GradientTape() as tape:
                    loss = self.loss(target, self.forward(x)[last])
                opt.apply(tape.gradient(loss, trained), trained)
                kept = [ta.write(k, self.variables[name].value) for ta, name in zip(kept, names)]
            return [ta.stack() for ta in kept]

        with self.keras_dtype(self.dtype), _quiet_retracing():
            stacked = [np.asarray(values) for values in run(tf.constant(len(batches)))]
        self.load(initial)
        return [{name: values[k] for name, values in zip(names, stacked)} for k in range(len(batches))]
