"""A lesson in PyTorch: ``nn.Linear`` layers, torch activations and losses, ``torch.optim``.

The weights are never initialised by torch: they are loaded from the reference
(``set_params``), converted to torch's ``(out, in)`` layout by ``layout.py``.

Training is one loop, ``Twin.train``, the loop every PyTorch tutorial writes::

    for idx in batches:                          # index arrays handed in: the training check's are
        opt.zero_grad()                          # DataLoader(TensorDataset(X, y), batch_size,
        loss = loss_fn(model(X[idx]), y[idx])    #            shuffle=False)'s, in order
        loss.backward()
        opt.step()

``step`` (one step on all the data) and the whole run ``fit`` (``twin.py``) are built on it.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from reference.dropout import scaled_mask

from .layout import from_torch, to_torch
from .twin import fit

# torch's default two intra-op threads were erratic for these tiny nets on a 2-core
# machine (a circles step: 12 ms median vs 0.5 ms single-threaded, docs/performance.md#threads
# and `nnparity bench`). One thread is also what makes float results repeatable
# at a fixed thread count (docs/conventions.md#threads-and-onednn).
DEFAULT_THREADS = torch.get_num_threads()  # torch's own choice, before pinning (`nnparity bench` times both)
torch.set_num_threads(1)

DTYPES = {"float64": torch.float64, "float32": torch.float32}

def step_straight_through(z):
    """The perceptron's step, 1 if z >= 0 else 0, with gradient 1 (reference ``Step``).

    ``z - z.detach()`` is exactly 0 in value and has derivative 1, so the value is
    exactly step(z) and autograd passes the upstream gradient straight through.
    """
    return (z >= 0).to(z.dtype) + (z - z.detach())


# name -> the torch function (a lesson's activation names are the reference's).
ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, negative_slope=0.01),
    "softmax": lambda z: torch.softmax(z, dim=1),
    "linear": lambda z: z,
    "step": step_straight_through,
}


def half_sum_squared_error(p, y):
    """0.5 * sum((p - y)**2): the classic XOR lesson's loss."""
    return 0.5 * F.mse_loss(p, y, reduction="sum")


def with_l2_penalty(loss_fn, linears, l2: float):
    """loss + l2 * sum of every weight's squares: Keras's ``kernel_regularizer=L2(l2)``, written on the torch loss.

    (``SGD(weight_decay=2 * l2)`` would give the same gradient on the weights, but
    it is not part of the loss value, and it decays the biases too.)
    """
    return lambda z, a, y: loss_fn(z, a, y) + l2 * sum((layer.weight ** 2).sum() for layer in linears)


class SharedMaskDropout(nn.Module):
    """``nn.Dropout(rate)`` whose keep-mask is handed in, so the reference and Keras apply the same one.

    In training: x * scaled_mask, with scaled_mask = keep * (1 / (1 - rate)) in the
    model's dtype (``reference.dropout.scaled_mask``; docs/conventions.md#dropout: exact).
    In ``eval()``: x, as ``nn.Dropout``.
    """

    def __init__(self, rate: float, name: str):
        super().__init__()
        self.rate, self.name = rate, name
        self.scaled_mask = None  # a tensor (N, units), set by Twin.set_dropout_masks

    def forward(self, x):
        if not self.training:
            return x
        if self.scaled_mask is None:
            raise RuntimeError(f"torch twin: {self.name} has no shared mask: call Twin.set_dropout_masks first")
        if self.scaled_mask.shape != x.shape:
            raise ValueError(f"torch twin: {self.name}'s shared mask has shape {tuple(self.scaled_mask.shape)}, "
                             f"but its input has shape {tuple(x.shape)}")
        return x * self.scaled_mask


# name -> loss(z_last, a_last, y). torch has no "categorical CE on probabilities"
# module: the idiom is CrossEntropyLoss on the logits (soft targets allowed).
LOSSES = {
    "mse": lambda z, a, y: F.mse_loss(a, y),
    "half_sse": lambda z, a, y: half_sum_squared_error(a, y),
    "bce": lambda z, a, y: F.binary_cross_entropy(a, y),  # nn.BCELoss on the sigmoid's output
    "bce_logits": lambda z, a, y: F.binary_cross_entropy_with_logits(z, y),
    "cce": lambda z, a, y: F.cross_entropy(z, y),  # nn.CrossEntropyLoss on the logits
    "cce_logits": lambda z, a, y: F.cross_entropy(z, y),
}


# reference optimizer name -> torch.optim class (hyper-parameters translated by torch_hyperparameters)
OPTIMIZERS = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "rmsprop": torch.optim.RMSprop,
    "adagrad": torch.optim.Adagrad,
    "nadam": torch.optim.NAdam,
    "adamax": torch.optim.Adamax,
    "amsgrad": lambda params, **hyper: torch.optim.Adam(params, amsgrad=True, **hyper),
    "adadelta": torch.optim.Adadelta,
}

# Keras's hyper-parameter names (nnparity's) -> torch's. beta_1 and beta_2 become betas=(beta_1, beta_2).
HYPER_NAMES = {
    "learning_rate": "lr",
    "epsilon": "eps",
    "momentum": "momentum",
    "nesterov": "nesterov",
    "centered": "centered",
    "weight_decay": "weight_decay",
    "initial_accumulator_value": "initial_accumulator_value",
    "momentum_decay": "momentum_decay",
}
# optimizer -> the names torch gives it apart from HYPER_NAMES: Keras's rho is alpha in torch's RMSprop
# and rho in its Adadelta (RMSprop's alpha given to Adadelta is a TypeError; rho to RMSprop too)
OPTIMIZER_HYPER_NAMES = {"rmsprop": {"rho": "alpha"}, "adadelta": {"rho": "rho"}}
TORCH_BETAS = (0.9, 0.999)  # torch Adam/AdamW's default betas, for a beta the caller left out

# Keras's clipping options -> what torch does between backward() and step(). torch has no
# per-tensor option: clip_grad_norm_ on each parameter alone is its equivalent of clipnorm.
CLIPPING = {
    "clipvalue": lambda params, v: nn.utils.clip_grad_value_(params, v),
    "clipnorm": lambda params, c: [nn.utils.clip_grad_norm_([p], c) for p in params],
    "global_clipnorm": lambda params, c: nn.utils.clip_grad_norm_(params, c),
}


def class_weighted_cross_entropy(class_weight, divisor: str):
    """loss(z, a, y) of a lesson with ``class_weights``: ``nn.CrossEntropyLoss(weight=w)`` on the class indices.

    torch divides by the sum of the samples' weights by default ("sum_of_weights"); "batch_size" (Keras's
    ``fit(class_weight=...)``) is its ``reduction="sum"`` divided by N. (On one-hot float targets torch
    divides by N already: the indices are what makes its default the weighted mean.)
    """
    if divisor == "sum_of_weights":
        return lambda z, a, y: F.cross_entropy(z, y.argmax(dim=1), weight=class_weight)
    return lambda z, a, y: F.cross_entropy(z, y.argmax(dim=1), weight=class_weight, reduction="sum") / len(y)


def exponential_decay(optimizer, settings: dict) -> torch.optim.lr_scheduler.LambdaLR:
    """A lesson's ``lr_schedule`` in torch: ``LambdaLR`` with Keras's ExponentialDecay formula, to be stepped
    after every ``optimizer.step()`` (not once an epoch): lr = lr0 * decay_rate ** (step / decay_steps),
    the exponent floored with ``staircase``, in Python floats (float64)."""
    rate, steps = settings["decay_rate"], settings["decay_steps"]
    if settings.get("staircase", False):
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: rate ** (step // steps))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: rate ** (step / steps))


def hyper_names(optimizer: str) -> dict[str, str]:
    """Keras's hyper-parameter names -> torch's keyword arguments, for ``optimizer`` (a key of OPTIMIZERS)."""
    return {**HYPER_NAMES, **OPTIMIZER_HYPER_NAMES.get(optimizer, {})}


def torch_hyperparameters(hyper: dict, optimizer: str) -> dict:
    """Keras-named hyper-parameters -> ``optimizer``'s torch.optim keyword arguments (clipping is not one:
    see CLIPPING)."""
    names = hyper_names(optimizer)
    out = {}
    for key, value in hyper.items():
        if key in CLIPPING or key in ("beta_1", "beta_2"):
            continue
        if key not in names:
            raise ValueError(f"torch twin: unknown hyper-parameter {key!r} for {optimizer}; expected some of "
                             f"{sorted([*names, 'beta_1', 'beta_2', *CLIPPING])}")
        out[names[key]] = value
    if "beta_1" in hyper or "beta_2" in hyper:
        out["betas"] = (hyper.get("beta_1", TORCH_BETAS[0]), hyper.get("beta_2", TORCH_BETAS[1]))
    return out


def clipping_of(hyper: dict):
    """The clipping to apply to the parameters' .grad before each step, or None."""
    given = [key for key in CLIPPING if hyper.get(key) is not None]
    if len(given) > 1:
        raise ValueError(f"torch twin: only one of clipvalue, clipnorm and global_clipnorm can be set. Received: {given}")
    if not given:
        return None
    key = given[0]
    return lambda params: CLIPPING[key](params, hyper[key])


class TorchMLP(nn.Module):
    """The lesson's network: Linear, activation, Linear, activation, ...

    With the lesson's regularizers, each hidden layer is Linear, BatchNorm1d (or LayerNorm),
    activation, dropout (``nn.Identity`` stands in for the ones the lesson has not).
    ``batchnorm`` is (momentum, epsilon) in Keras's words: torch's momentum is
    1 - momentum (the weight of the new batch). ``layernorm`` is LayerNorm's epsilon, given
    explicitly (torch's default 1e-5 is not Keras's 1e-3).
    """

    def __init__(self, sizes, activations, use_bias, dtype, batchnorm=None, dropout=None, layernorm=None):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Linear(fan_in, units, bias=use_bias, dtype=dtype)
            for fan_in, units in zip(sizes[:-1], sizes[1:])
        )
        self.activations = [ACTIVATIONS[name] for name in activations]
        hidden = list(enumerate(sizes[1:-1], start=1))
        self.batchnorms = nn.ModuleList(  # the normalization of each layer: BatchNorm1d, LayerNorm or none
            [nn.BatchNorm1d(units, eps=batchnorm[1], momentum=1 - batchnorm[0], dtype=dtype) if batchnorm
             else nn.LayerNorm(units, eps=layernorm, dtype=dtype) if layernorm is not None
             else nn.Identity() for _, units in hidden] + [nn.Identity()]
        )
        self.dropouts = nn.ModuleList(
            [SharedMaskDropout(dropout, f"dropout{l}") if dropout else nn.Identity() for l, _ in hidden]
            + [nn.Identity()]
        )

    def forward(self, x, trace=None):
        """The output; ``trace`` (a dict), when given, gets every stage: z1, [bn1], a1, [dropout1], z2, ..."""
        stages = zip(self.layers, self.batchnorms, self.activations, self.dropouts)
        for l, (layer, batchnorm, activation, dropout) in enumerate(stages, start=1):
            z = layer(x)
            n = batchnorm(z)
            a = activation(n)
            x = dropout(a)
            if trace is not None:
                trace[f"z{l}"] = z
                if not isinstance(batchnorm, nn.Identity):
                    trace[f"{'ln' if isinstance(batchnorm, nn.LayerNorm) else 'bn'}{l}"] = n
                trace[f"a{l}"] = a
                if not isinstance(dropout, nn.Identity):
                    trace[f"dropout{l}"] = x
        return x


class Twin:
    """The torch side of a lesson: same operations as every twin."""

    framework = "torch"

    def __init__(self, lesson, dtype: str):
        self.lesson = lesson
        self.dtype = dtype
        self.torch_dtype = DTYPES[dtype]
        batchnorm = (lesson.batchnorm_momentum, lesson.batchnorm_epsilon) if lesson.batchnorm else None
        self.model = TorchMLP(lesson.sizes, lesson.activations, lesson.use_bias, self.torch_dtype,
                              batchnorm=batchnorm, dropout=lesson.dropout,
                              layernorm=lesson.layernorm_epsilon if lesson.layernorm else None)
        self.loss_fn = LOSSES[lesson.loss]
        if lesson.class_weights:
            self.loss_fn = class_weighted_cross_entropy(self._tensor(lesson.class_weights), lesson.class_weight_divisor)
        if lesson.kernel_l2:
            self.loss_fn = with_l2_penalty(self.loss_fn, self.model.layers, lesson.kernel_l2)
        self._named = {}  # trained parameters, by reference name
        self._state = {}  # BatchNorm's running statistics: buffers, moved by every training forward
        for i, layer in enumerate(self.model.layers, start=1):
            self._named[f"W{i}"] = layer.weight
            if layer.bias is not None:
                self._named[f"b{i}"] = layer.bias
            bn = self.model.batchnorms[i - 1]
            if isinstance(bn, nn.BatchNorm1d):  # Keras's names: weight is gamma, bias is beta
                self._named[f"gamma{i}"], self._named[f"beta{i}"] = bn.weight, bn.bias
                self._state[f"moving_mean{i}"], self._state[f"moving_variance{i}"] = bn.running_mean, bn.running_var
            if isinstance(bn, nn.LayerNorm):  # the same names: weight is gamma, bias is beta
                self._named[f"gamma{i}"], self._named[f"beta{i}"] = bn.weight, bn.bias

    def _tensor(self, array, requires_grad=False):
        return torch.tensor(np.asarray(array), dtype=self.torch_dtype, requires_grad=requires_grad)

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        with torch.no_grad():
            for name, p in {**self._named, **self._state}.items():
                p.copy_(self._tensor(to_torch(name, params[name])))

    def get_params(self) -> dict[str, np.ndarray]:
        """Every parameter, and BatchNorm's running statistics, in the reference layout."""
        named = {**self._named, **self._state}
        return {name: from_torch(name, p.detach().numpy().copy()) for name, p in named.items()}

    def set_dropout_masks(self, masks: dict[str, np.ndarray]) -> None:
        """The boolean keep-masks {"dropout1": (N, units), ...} every training forward applies."""
        dropouts = {d.name: d for d in self.model.dropouts if isinstance(d, SharedMaskDropout)}
        if set(masks) != set(dropouts):
            raise ValueError(f"torch twin: expected masks {sorted(dropouts)}. Received: {sorted(masks)}")
        for name, dropout in dropouts.items():
            dropout.scaled_mask = self._tensor(scaled_mask(masks[name], dropout.rate, self.dtype))

    def forward(self, X, training: bool = True) -> dict[str, np.ndarray]:
        """Every stage of every layer: z_l, a_l (and bn_l, dropout_l). ``training=False``: ``model.eval()``."""
        trace = {}
        self.model.train(training)
        try:
            with torch.no_grad():
                self.model(self._tensor(X), trace)
        finally:
            self.model.train(True)
        return {name: t.numpy() for name, t in trace.items()}

    def dz(self, X, y) -> dict[str, np.ndarray]:
        """dL/dz_l of every layer, by autograd (``retain_grad`` keeps a non-leaf's gradient)."""
        trace = {}
        self.model(self._tensor(X), trace)
        n = self.lesson.n_layers
        zs = [trace[f"z{l}"] for l in range(1, n + 1)]
        for z in zs:
            z.retain_grad()
        self.loss_fn(zs[-1], trace[f"a{n}"], self._tensor(y)).backward()
        self.model.zero_grad(set_to_none=True)  # leave no stray gradients on the parameters
        return {f"dz{l}": z.grad.numpy().copy() for l, z in enumerate(zs, start=1)}

    def _loss(self, x, y):
        """The loss of the tensors (x, y): the model's output traced, the lesson's loss on it."""
        trace = {}
        self.model(x, trace)
        n = self.lesson.n_layers
        return self.loss_fn(trace[f"z{n}"], trace[f"a{n}"], y)

    def loss(self, X, y) -> float:
        with torch.no_grad():
            return float(self._loss(self._tensor(X), self._tensor(y)))

    def gradients(self, X, y) -> dict[str, np.ndarray]:
        """dL/dparameter for every parameter, and dL/dX, by autograd."""
        x = self._tensor(X, requires_grad=True)
        self.model.zero_grad(set_to_none=True)
        self._loss(x, self._tensor(y)).backward()
        grads = {name: from_torch(name, p.grad.numpy().copy()) for name, p in self._named.items()}
        grads["X"] = x.grad.numpy().copy()
        return grads

    def fit(self, X, y, optimizer: str, hyper: dict, epochs: int, batches, record_every=None, dropout_masks=None):
        """The lesson's whole training run from the current weights: ``train`` over every epoch's
        batches (``twin.fit``); (loss curve, snapshots)."""
        return fit(self, X, y, optimizer, hyper, epochs, batches, record_every, dropout_masks)

    def make_optimizer(self, name: str, hyper: dict) -> torch.optim.Optimizer:
        """``torch.optim`` optimizer ``name`` over this model, from Keras-named hyper-parameters."""
        if name not in OPTIMIZERS:
            raise ValueError(f"torch twin: unknown optimizer {name!r}; expected one of {sorted(OPTIMIZERS)}")
        return OPTIMIZERS[name](self.model.parameters(), **torch_hyperparameters(hyper, name))

    def train(self, X, y, optimizer: str, hyper: dict, batches, record, learning_rates=None,
              dropout_masks=None, on_step=None) -> dict:
        """One step per batch of indices in ``batches``, from the current weights, with a new optimizer:
        the loop every PyTorch tutorial writes (``opt.zero_grad(); loss.backward(); opt.step()``).

        Returns {k: the weights after step k} for every k in ``record``. ``learning_rates``
        (one per step, optional) is a schedule: each step's ``lr`` is set before it.
        ``dropout_masks(k - 1, len(idx))`` (optional) gives the keep-masks of step k.
        ``on_step(k, loss)`` (optional) gets step k's loss before its update, ``loss.item()``.
        """
        opt = self.make_optimizer(optimizer, hyper)
        if learning_rates is not None and self.lesson.lr_schedule:
            raise ValueError(f"torch twin: lesson {self.lesson.name!r} has its own lr_schedule; learning_rates "
                             "would override it")
        scheduler = exponential_decay(opt, dict(self.lesson.lr_schedule)) if self.lesson.lr_schedule else None
        clip = clipping_of(hyper)
        X, y = np.asarray(X), np.asarray(y)
        out, tensors = {}, {}  # each distinct batch converted once (full-batch lessons: one batch)
        for k, idx in enumerate(batches, start=1):
            if learning_rates is not None:
                for group in opt.param_groups:
                    group["lr"] = float(learning_rates[k - 1])
            if dropout_masks is not None:
                self.set_dropout_masks(dropout_masks(k - 1, len(idx)))
            key = np.asarray(idx).tobytes()
            if key not in tensors:
                tensors[key] = (self._tensor(X[idx]), self._tensor(y[idx]))
            opt.zero_grad(set_to_none=True)
            loss = self._loss(*tensors[key])
            loss.backward()
            if clip:
                clip(list(self.model.parameters()))
            opt.step()
            if scheduler is not None:
                scheduler.step()  # every batch: the lesson's schedule counts steps, not epochs
            if on_step is not None:
                on_step(k, loss.item())
            if k in record:
                out[k] = self.get_params()
        return out

    def step(self, X, y, optimizer: str, hyper: dict) -> dict[str, np.ndarray]:
        """One optimizer step on all of (X, y) from the current weights; the weights after it."""
        return self.train(X, y, optimizer, hyper, [np.arange(len(X))], record=(1,))[1]
