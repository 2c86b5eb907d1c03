"""The MLP with the regularizers the lessons send learners to next: BatchNorm, Dropout, an L2 penalty.

The plain ``MLP`` (``mlp.py``) with three additions, each optional. For every
hidden layer l (the output layer gets neither BatchNorm nor Dropout)::

    z_l = x_{l-1} @ W_l + b_l                # Dense                  trace: "z{l}"
    n_l = BatchNorm_l(z_l)                   # if batchnorm, else z_l  trace: "bn{l}"
        (or LayerNorm_l(z_l), if layernorm:  each row over its units;  trace: "ln{l}")
    a_l = f_l(n_l)                           # activation             trace: "a{l}"
    x_l = Dropout_l(a_l)                     # if dropout, else a_l    trace: "dropout{l}"
    L = loss(a_L, y) + kernel_l2 * sum_l sum(W_l ** 2)

and backward, the same chain in reverse: the loss's dz_L, then for each layer
Dense's (dW, db, dx) (dW plus 2 * kernel_l2 * W), Dropout's mask, the
activation's derivative at n_l, BatchNorm's (dgamma, dbeta, dz).

Parameters are named per layer: ``W1, b1`` (Dense), ``gamma1, beta1`` (BatchNorm or
LayerNorm, trained; Keras's names for both) and ``moving_mean1, moving_variance1`` (BatchNorm's running statistics:
state, updated by every training forward, never by the optimizer).

PyTorch: ``nn.Linear``, ``nn.BatchNorm1d`` (or ``nn.LayerNorm(units, eps)``), the activation,
``nn.Dropout``, in that order, and ``+ l2 * sum((w ** 2).sum())`` on the loss. Keras 3: ``Dense(...,
kernel_regularizer=L2(l2))``, ``BatchNormalization`` (or ``LayerNormalization(epsilon=eps)``),
``Activation``, ``Dropout``. Their conventions, and how nnparity translates them, are in
``batchnorm.py``, ``layernorm.py``, ``dropout.py`` and ``regularizers.py``.
"""

from __future__ import annotations

import numpy as np

from .batchnorm import BatchNorm, BatchNormConvention
from .dropout import Dropout
from .layernorm import LayerNorm
from .mlp import MLP, as_numbers
from .regularizers import L2

BATCHNORM_PARAMS = ("gamma", "beta", "moving_mean", "moving_variance")
BATCHNORM_STATE = ("moving_mean", "moving_variance")  # not trained: the optimizer never sees them
LAYERNORM_PARAMS = ("gamma", "beta")  # LayerNorm's, trained; no running statistics


class RegularizedMLP(MLP):
    """An ``MLP`` with optional BatchNorm before, and Dropout after, each hidden activation, and an L2 penalty.

    - ``batchnorm``: a ``BatchNormConvention`` (momentum, epsilon, running variance)
      for every hidden layer, or None. ``params`` then holds ``gamma{l}``,
      ``beta{l}``, ``moving_mean{l}`` and ``moving_variance{l}`` of shape (units_l,).
    - ``dropout``: the rate of a Dropout after every hidden activation, or None.
      Masks are drawn from ``rng``, or fixed with ``set_dropout_masks``.
    - ``kernel_l2``: the factor of the L2 penalty on every kernel (0: none).
    - ``layernorm``: the epsilon of a LayerNorm (``layernorm.py``) before every hidden activation,
      or None; ``params`` then holds ``gamma{l}`` and ``beta{l}`` of shape (units_l,). Not with
      ``batchnorm``.

    ``forward(X, training)`` keeps every stage's output (``trace()``); ``training=False``
    uses BatchNorm's running statistics and no dropout.
    """

    def __init__(self, params, activations, loss="mse", dtype="float64", *,
                 batchnorm: BatchNormConvention | None = None, dropout: float | None = None,
                 kernel_l2: float = 0.0, rng: np.random.Generator | None = None, fuse: bool = True,
                 layernorm: float | None = None):
        if batchnorm is not None and not isinstance(batchnorm, BatchNormConvention):
            raise TypeError(f"RegularizedMLP: batchnorm must be a BatchNormConvention (momentum, epsilon, "
                            f"running_variance) or None. Received: batchnorm={batchnorm!r}")
        if batchnorm is not None and layernorm is not None:
            raise ValueError("RegularizedMLP: one normalization per layer: batchnorm or layernorm, not both")
        dense = {k: v for k, v in params.items() if k[:1] in ("W", "b") and k[1:].isdigit()}
        super().__init__(dense, activations, loss, dtype, fuse=fuse)
        hidden = range(1, len(self.layers))  # the layers that get BatchNorm, LayerNorm and Dropout
        norm = BATCHNORM_PARAMS if batchnorm else LAYERNORM_PARAMS if layernorm is not None else ()
        self._check_names(params, dense, {f"{p}{l}" for l in hidden for p in norm}, batchnorm, layernorm)
        self.batchnorms: list[BatchNorm | None] = [None] * len(self.layers)
        self.layernorms: list[LayerNorm | None] = [None] * len(self.layers)
        ordered = {}
        for l, layer in enumerate(self.layers, start=1):
            ordered[f"W{l}"] = self.params[f"W{l}"]
            if f"b{l}" in self.params:
                ordered[f"b{l}"] = self.params[f"b{l}"]
            if l not in hidden:
                continue
            ordered.update(self._norm_params(params, norm, l, layer))
            if batchnorm:
                self.batchnorms[l - 1] = BatchNorm(
                    *(ordered[f"{p}{l}"] for p in BATCHNORM_PARAMS), momentum=batchnorm.momentum,
                    epsilon=batchnorm.epsilon, running_variance=batchnorm.running_variance)
            elif layernorm is not None:
                self.layernorms[l - 1] = LayerNorm(layer.units, epsilon=layernorm)
                # the model's own arrays, updated in place by the optimizer (as BatchNorm's)
                self.layernorms[l - 1].gamma, self.layernorms[l - 1].beta = ordered[f"gamma{l}"], ordered[f"beta{l}"]
        self.params = ordered  # the same arrays, in layer order
        self.trainable = [k for k in self.params if not k.startswith(BATCHNORM_STATE)]
        rng = rng if rng is not None else np.random.default_rng()
        self.dropouts: list[Dropout | None] = [
            Dropout(dropout, rng) if dropout and l in hidden else None for l in range(1, len(self.layers) + 1)
        ]
        self.kernel_regularizer = L2(kernel_l2) if kernel_l2 else None
        self.n: list[np.ndarray] = []  # the activations' inputs: BatchNorm's or LayerNorm's output, or z
        self.x: list[np.ndarray] = []  # each layer's output, after dropout: the next layer's input

    @staticmethod
    def _check_names(params, dense, expected, batchnorm, layernorm) -> None:
        missing, unknown = expected - set(params), set(params) - set(dense) - expected
        if missing or unknown:
            raise ValueError(
                "RegularizedMLP: parameter names do not match the layers"
                + (f"; missing {sorted(missing)}" if missing else "")
                + (f"; unexpected {sorted(unknown)}" if unknown else "")
                + (" (BatchNorm needs gamma, beta, moving_mean and moving_variance for every hidden layer)"
                   if batchnorm else " (LayerNorm needs gamma and beta for every hidden layer)"
                   if layernorm is not None else " (no batchnorm: only W1, b1, ... are expected)")
            )

    def _norm_params(self, params, names, l, layer) -> dict[str, np.ndarray]:
        """The normalization's arrays of hidden layer ``l`` (gamma{l}, ...), each checked to be (units,)."""
        out = {}
        for p in names:
            value = as_numbers(params[f"{p}{l}"], self.dtype, f"RegularizedMLP: {p}{l}").copy()
            if value.shape != (layer.units,):
                raise ValueError(f"RegularizedMLP: {p}{l} must have shape ({layer.units},) to match "
                                 f"W{l} {layer.kernel.shape}. Received: {value.shape}")
            out[f"{p}{l}"] = value
        return out

    def set_dropout_masks(self, masks: dict[str, np.ndarray] | None) -> None:
        """Fix the keep-masks, ``{"dropout1": (N, units1) bool, ...}``, for every training forward (None: draw)."""
        names = {f"dropout{l}": d for l, d in enumerate(self.dropouts, start=1) if d is not None}
        if masks is None:
            for d in names.values():
                d.set_mask(None)
            return
        if set(masks) != set(names):
            raise ValueError(f"RegularizedMLP.set_dropout_masks: expected masks {sorted(names)}. "
                             f"Received: {sorted(masks)}")
        for name, d in names.items():
            d.set_mask(masks[name])

    def forward(self, X, training: bool = True) -> np.ndarray:
        """a_L for X of shape (N, sizes[0]); every stage is kept (``trace()``)."""
        x = self._check_x(X)
        self.z, self.n, self.a, self.x = [], [], [x], [x]
        for layer, bn, ln, act, drop in zip(self.layers, self.batchnorms, self.layernorms, self.activations,
                                            self.dropouts):
            z = layer.forward(x)
            n = bn.forward(z, training) if bn is not None else ln.forward(z) if ln is not None else z
            a = act.forward(n)
            x = drop.forward(a, training) if drop is not None else a
            self.z.append(z)
            self.n.append(n)
            self.a.append(a)
            self.x.append(x)
        return a

    def predict(self, X) -> np.ndarray:
        """a_L in inference mode: no dropout, BatchNorm with its running statistics (torch ``model.eval()``,
        Keras ``training=False``)."""
        return self.forward(X, training=False)

    def trace(self) -> dict[str, np.ndarray]:
        """Every stage of the last forward: {"z1", "bn1" or "ln1", "a1", "dropout1", "z2", ...} (the stages
        that exist)."""
        out = {}
        for l, (bn, ln, drop) in enumerate(zip(self.batchnorms, self.layernorms, self.dropouts), start=1):
            out[f"z{l}"] = self.z[l - 1]
            if bn is not None:
                out[f"bn{l}"] = self.n[l - 1]
            if ln is not None:
                out[f"ln{l}"] = self.n[l - 1]
            out[f"a{l}"] = self.a[l]
            if drop is not None:
                out[f"dropout{l}"] = self.x[l]
        return out

    def penalty(self) -> float:
        """kernel_l2 * sum of every kernel's squares (0 without a penalty)."""
        if self.kernel_regularizer is None:
            return 0.0
        return sum(self.kernel_regularizer.penalty(layer.kernel) for layer in self.layers)

    def loss_value(self, X, y, training: bool = True) -> float:
        """L = loss(forward(X), y) + the penalty (the loss from the logits when fused)."""
        self.forward(X, training)
        y = self._check_y(y)
        return self._output_loss.forward(self.z[-1] if self.fused else self.a[-1], y) + self.penalty()

    def backward(self, y, input_gradient: bool = True) -> dict[str, np.ndarray]:
        """Every trained parameter's gradient after a ``forward``, and ``"X"``: dL/dX (left out when
        ``input_gradient`` is False, as in ``MLP.backward``). Each layer's dL/dz_l is kept (``self.dz``)."""
        if not self.z:
            raise RuntimeError("RegularizedMLP.backward called before forward")
        y = self._check_y(y)
        if self.fused:  # the output layer has no BatchNorm: its activation's input is z_L, its output a_L
            dn = self._output_loss.backward(self.z[-1], y, a=self.a[-1])  # (a_L - y) / N, a_L reused
        else:
            dn = self.activations[-1].backward(self.n[-1], self.a[-1], self.loss.backward(self.a[-1], y))
        grads: dict[str, np.ndarray] = {}
        self.dz = [None] * len(self.layers)
        for i in range(len(self.layers) - 1, -1, -1):
            l = i + 1
            if self.batchnorms[i] is not None:
                grads[f"gamma{l}"], grads[f"beta{l}"], dz = self.batchnorms[i].backward(dn)
            elif self.layernorms[i] is not None:
                dz, norm_grads = self.layernorms[i].backward(dn)
                grads[f"gamma{l}"], grads[f"beta{l}"] = norm_grads["gamma"], norm_grads["beta"]
            else:
                dz = dn
            self.dz[i] = dz  # dL/dz_l, z_l the Dense layer's output (before BatchNorm)
            dW, db, dx = self.layers[i].backward(dz, input_gradient=i > 0 or input_gradient)
            if self.kernel_regularizer is not None:
                dW = dW + self.kernel_regularizer.gradient(self.layers[i].kernel)
            grads[f"W{l}"] = dW
            if db is not None:
                grads[f"b{l}"] = db
            if i > 0:
                da = self.dropouts[i - 1].backward(dx) if self.dropouts[i - 1] is not None else dx
                dn = self.activations[i - 1].backward(self.n[i - 1], self.a[i], da)
        if input_gradient:
            grads["X"] = dx
        return grads

    def step(self, X, y, optimizer) -> float:
        """One training step on (X, y): the running statistics move in the forward, the optimizer
        updates the trained parameters only. Returns the loss before the update."""
        loss = self.loss_value(X, y, training=True)
        grads = self.backward(y, input_gradient=False)  # a step needs no dL/dX
        optimizer.update({k: self.params[k] for k in self.trainable}, {k: grads[k] for k in self.trainable})
        return loss
