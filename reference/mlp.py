"""The multi-layer perceptron: Dense layers and activations, chained.

For layers l = 1..L (the lessons' names: ``W1, b1, W2, b2, ...``)::

    a0 = X                                   # (N, sizes[0])
    z_l = a_{l-1} @ W_l + b_l                # (N, sizes[l])
    a_l = f_l(z_l)
    L = loss(a_L, y)

and backward, from the output to the input (the chain rule, one layer at a time)::

    dz_L = dL/da_L * f_L'(z_L)               # or (a_L - y) / N when fused, see below
    dW_l = a_{l-1}.T @ dz_l;  db_l = sum_n dz_l;  da_{l-1} = dz_l @ W_l.T
    dz_{l-1} = da_{l-1} * f_{l-1}'(z_{l-1})

When the last activation is the one the loss fuses with (sigmoid + BCE,
softmax + categorical CE), the loss is computed from z_L (see ``losses.py``):
exact for any logit, and dz_L = (a_L - y) / N with no division by a(1 - a).
``fuse=False`` computes it from the probabilities a_L instead, as torch's
``BCELoss`` and Keras on the JAX and torch backends do (with their own clipping).

PyTorch: an ``nn.Sequential`` of ``nn.Linear`` and activation modules, then
``loss.backward()``. Keras 3: a ``Sequential`` of ``Dense`` layers, then
``GradientTape.gradient``. nnparity's twins build exactly those (``frameworks/``).
"""

from __future__ import annotations

import numpy as np

from .activations import Activation, get_activation
from .dense import Dense
from .losses import Loss, get_loss
from .optimizers import Optimizer


def as_numbers(value, dtype, what: str) -> np.ndarray:
    """``np.asarray(value, dtype)`` (no copy when it already is such an array), or a ValueError that
    names ``what`` when ``value`` is not numbers (a string, None, rows of different lengths)."""
    try:
        return np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must hold numbers ({np.dtype(dtype).name}). Received: {exc}") from None


class MLP:
    """An MLP over parameters ``{"W1": (n0, n1), "b1": (n1,), "W2": ...}`` in one dtype.

    ``forward(X)`` keeps every layer's ``z`` and ``a`` (``self.z``, ``self.a``);
    ``backward(y)`` returns every gradient (and ``"X"``: dL/dX) and keeps each
    layer's ``dz`` (``self.dz``).
    """

    def __init__(self, params, activations, loss="mse", dtype="float64", fuse=True):
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"MLP: dtype must be float32 or float64. Received: dtype={dtype}")
        n_layers = sum(1 for k in params if k.startswith("W"))
        expected = {f"W{i}" for i in range(1, n_layers + 1)} | {f"b{i}" for i in range(1, n_layers + 1)}
        unknown = set(params) - expected
        if n_layers == 0 or unknown or any(f"W{i}" not in params for i in range(1, n_layers + 1)):
            raise ValueError(
                f"MLP: parameters must be named W1, b1, ..., W{max(n_layers, 1)}, b{max(n_layers, 1)} "
                f"(biases optional). Received: {sorted(params)}"
            )
        # Our own copy, in our dtype: the caller's arrays are never changed.
        self.params = {k: as_numbers(v, self.dtype, f"MLP: {k}").copy() for k, v in params.items()}
        self.layers = [Dense(self.params[f"W{i}"], self.params.get(f"b{i}")) for i in range(1, n_layers + 1)]
        for i in range(1, n_layers):
            if self.layers[i].kernel.shape[0] != self.layers[i - 1].units:
                raise ValueError(
                    f"MLP: W{i + 1} has shape {self.layers[i].kernel.shape}, but W{i} gives "
                    f"{self.layers[i - 1].units} units: expected W{i + 1}.shape[0] == {self.layers[i - 1].units}"
                )
        self.activations = [a if isinstance(a, Activation) else get_activation(a) for a in activations]
        if len(self.activations) != n_layers:
            raise ValueError(
                f"MLP: {n_layers} layers need {n_layers} activations. Received: {len(self.activations)}"
            )
        self.loss = loss if isinstance(loss, Loss) else get_loss(loss)
        # sigmoid + BCE and softmax + CCE are computed from the logits (see module doc).
        self.fused = fuse and self.loss.fused_activation is not None and (
            self.loss.fused_activation == self.activations[-1].name
        )
        self._output_loss = self.loss.from_logits() if self.fused else self.loss
        self.z: list[np.ndarray] = []
        self.a: list[np.ndarray] = []
        self.dz: list[np.ndarray] = []

    @property
    def sizes(self) -> tuple[int, ...]:
        return (self.layers[0].kernel.shape[0],) + tuple(layer.units for layer in self.layers)

    def _check_x(self, X) -> np.ndarray:
        X = as_numbers(X, self.dtype, "MLP.forward: X")  # no copy when X already has our dtype
        if X.ndim != 2 or X.shape[1] != self.layers[0].kernel.shape[0]:  # W1's fan_in, sizes[0]
            raise ValueError(
                f"MLP.forward: X must have shape (N, {self.sizes[0]}) to feed W1 of shape "
                f"{self.layers[0].kernel.shape}. Received: X.shape={X.shape}"
            )
        return X

    def _check_not_empty(self, y, what: str) -> None:
        """A mean over 0 samples is undefined: refuse it rather than return nan (or zeros)."""
        if len(y) == 0 and self.loss.reduction == "mean":
            raise ValueError(
                f"MLP.{what}: the batch is empty (y.shape={y.shape}): {self.loss.name} is a mean over the "
                "batch, undefined for 0 samples (torch gives nan, Keras an empty array)"
            )

    def _check_y(self, y) -> np.ndarray:
        y = as_numbers(y, self.dtype, "MLP: y")
        expected = self.a[-1].shape
        if y.shape != expected:
            raise ValueError(
                f"MLP: y must have the output's shape {expected} (one-hot for softmax). Received: y.shape={y.shape}"
            )
        return y

    def forward(self, X) -> np.ndarray:
        """a_L for X of shape (N, sizes[0]); every z_l and a_l is kept."""
        a = self._check_x(X)
        self.z, self.a = [], [a]
        for layer, act in zip(self.layers, self.activations):
            z = layer.forward(a)
            a = act.forward(z)
            self.z.append(z)
            self.a.append(a)
        return a

    def predict(self, X) -> np.ndarray:
        """a_L in inference mode (torch ``model.eval()``, Keras ``training=False``): for a plain MLP,
        the same as ``forward``; ``RegularizedMLP`` turns dropout off and uses BatchNorm's running statistics."""
        return self.forward(X)

    def trace(self) -> dict[str, np.ndarray]:
        """Every layer's output in the last forward, named as the twins name them: {"z1", "a1", "z2", ...}."""
        out = {}
        for l, z in enumerate(self.z, start=1):
            out[f"z{l}"] = z
            out[f"a{l}"] = self.a[l]
        return out

    def loss_value(self, X, y) -> float:
        """L = loss(forward(X), y) (from the logits when fused)."""
        self.forward(X)
        y = self._check_y(y)
        self._check_not_empty(y, "loss_value")
        return self._output_loss.forward(self.z[-1] if self.fused else self.a[-1], y)

    def backward(self, y, input_gradient: bool = True) -> dict[str, np.ndarray]:
        """Every gradient after a ``forward``: {"W1": dL/dW1, "b1": ..., "X": dL/dX}.

        ``input_gradient=False`` leaves out "X" (and the matmul it costs), as a
        training step does: torch and Keras do not compute it either unless X is
        watched (``requires_grad``, ``tape.watch``).
        """
        if not self.a:
            raise RuntimeError("MLP.backward called before forward")
        y = self._check_y(y)
        self._check_not_empty(y, "backward")
        if self.fused:
            dz = self._output_loss.backward(self.z[-1], y, a=self.a[-1])  # (a_L - y) / N, a_L reused
        else:
            da = self.loss.backward(self.a[-1], y)
            dz = self.activations[-1].backward(self.z[-1], self.a[-1], da)
        grads: dict[str, np.ndarray] = {}
        self.dz = [None] * len(self.layers)
        for i in range(len(self.layers) - 1, -1, -1):
            self.dz[i] = dz
            dW, db, da = self.layers[i].backward(dz, input_gradient=i > 0 or input_gradient)
            grads[f"W{i + 1}"] = dW
            if db is not None:
                grads[f"b{i + 1}"] = db
            if i > 0:
                dz = self.activations[i - 1].backward(self.z[i - 1], self.a[i], da)
        if input_gradient:
            grads["X"] = da
        return grads

    def gradients(self, X, y) -> dict[str, np.ndarray]:
        """forward, then backward: every parameter's gradient and dL/dX."""
        self.forward(X)
        return self.backward(y)

    def step(self, X, y, optimizer: Optimizer) -> float:
        """One training step on the batch (X, y); returns the loss before the update."""
        loss = self.loss_value(X, y)
        grads = self.backward(y, input_gradient=False)  # a step needs no dL/dX
        optimizer.update(self.params, grads)
        return loss

    def train(self, X, y, optimizer: Optimizer, batches, record=(), learning_rates=None,
              dropout_masks=None, losses: list | None = None) -> dict[int, dict]:
        """The training loop: one ``step`` per batch, for k, idx in batches: step(X[idx], y[idx], optimizer).

        ``batches`` is a list of index arrays (``batches.MiniBatches``); ``learning_rates``
        (optional, one per step) sets ``optimizer.learning_rate`` before each step;
        ``dropout_masks(k - 1, len(idx))`` (optional, for a model with dropout) gives
        the keep-masks set before step k (``RegularizedMLP.set_dropout_masks``);
        ``losses`` (optional, a list) gets each step's loss, before its update, appended.
        Returns {k: a copy of the parameters after step k} for every k in ``record``.
        """
        X, y = np.asarray(X), np.asarray(y)
        out = {}
        for k, idx in enumerate(batches, start=1):
            if learning_rates is not None:
                optimizer.learning_rate = float(learning_rates[k - 1])
            if dropout_masks is not None:
                self.set_dropout_masks(dropout_masks(k - 1, len(idx)))
            loss = self.step(X[idx], y[idx], optimizer)
            if losses is not None:
                losses.append(loss)
            if k in record:
                out[k] = {name: p.copy() for name, p in self.params.items()}
        return out

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        """Copy new values into the parameters (same names, same shapes), keeping our dtype."""
        for name, value in params.items():
            if name not in self.params:
                raise KeyError(f"MLP.set_params: no parameter {name!r}; have {sorted(self.params)}")
            if np.shape(value) != self.params[name].shape:
                raise ValueError(
                    f"MLP.set_params: {name} must have shape {self.params[name].shape}. "
                    f"Received: {np.shape(value)}"
                )
            np.copyto(self.params[name], as_numbers(value, self.dtype, f"MLP.set_params: {name}"))
