"""Optimizers: how a gradient becomes a parameter update.

Every optimizer updates a dict of parameters in place from a dict of gradients
with the same names, one step per call: ``opt.update(params, grads)``. Each step::

    t = t + 1                                     # opt.iterations
    grads = clip_gradients(grads)                 # clipping.py, if clipvalue/clipnorm/global_clipnorm is set
    for every parameter p, with its gradient g and its own state (m, v, ...):
        weight decay                              # see below
        the optimizer's own update                # each class's docstring

Hyper-parameters have Keras's names (``learning_rate``, ``beta_1``, ``epsilon``,
``rho``, ...); the torch names are in each docstring.

PyTorch and Keras write several of these optimizers differently
(docs/conventions.md#optimizers), and the difference is part of what a learner meets. So
every optimizer takes ``convention="torch"`` or ``convention="keras"`` and
implements that framework's formula, written out in its docstring. A
hyper-parameter left as ``None`` takes that framework's default (``defaults``),
so ``Adam(convention="keras")`` is ``keras.optimizers.Adam()`` and
``Adam(convention="torch")`` is ``torch.optim.Adam(params)``.

Weight decay, the one convention shared by every optimizer:

- ``convention="torch"``: L2. The decay joins the gradient, ``g = g + weight_decay * p``,
  and goes through the optimizer's formula (torch ``weight_decay=`` of SGD, Adam,
  RMSprop, Adagrad). Only ``AdamW`` decouples it.
- ``convention="keras"``: decoupled, for every optimizer. Before the update,
  ``p = p - learning_rate * weight_decay * p``; the gradient is left alone.
"""

from __future__ import annotations

import math

import numpy as np

from .clipping import check_clipping, clip_gradients

CONVENTIONS = ("torch", "keras")


class Optimizer:
    """Contract: ``update(params, grads)`` changes ``params`` in place (one step).

    Subclasses declare ``defaults`` (per convention: what that framework's
    constructor uses for every hyper-parameter) and ``update_parameter``.
    """

    name = "optimizer"
    defaults: dict[str, dict[str, float]] = {}
    # convention -> does weight decay skip the gradient (decoupled) or join it (L2)?
    decoupled_weight_decay = {"torch": False, "keras": True}

    def __init__(self, convention: str = "torch", clipping: dict | None = None, **hyper):
        owner = type(self).__name__
        if convention not in CONVENTIONS:
            raise ValueError(f"{owner}: convention must be 'torch' or 'keras'. Received: convention={convention!r}")
        self.convention = convention
        for key, value in hyper.items():
            if value is None:
                value = self.defaults[convention][key]
            if not isinstance(value, (bool, int, float, np.floating, np.integer)):
                raise ValueError(f"{owner}: {key} must be a number. Received: {key}={value!r}")
            setattr(self, key, value if isinstance(value, bool) else float(value))
        self.clipping = check_clipping(owner, **(clipping or {}))
        if not self.learning_rate > 0:
            raise ValueError(
                f"{owner}: expected a positive learning_rate. Received: learning_rate={hyper['learning_rate']!r}"
            )
        if self.weight_decay < 0:
            raise ValueError(f"{owner}: expected weight_decay >= 0. Received: weight_decay={self.weight_decay}")
        self.iterations = 0  # steps taken (Keras's name; torch keeps a `step` per parameter)
        self.state: dict[str, dict[str, np.ndarray]] = {}

    def _in_range(self, key: str, low: float, high: float) -> None:
        """Refuse a hyper-parameter outside [low, high), naming it."""
        value = getattr(self, key)
        if not low <= value < high:
            raise ValueError(f"{type(self).__name__}: expected {low} <= {key} < {high}. Received: {key}={value}")

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """One step: clip, weight decay, then ``update_parameter`` for every parameter."""
        for name, p in params.items():
            if name not in grads:
                raise KeyError(f"{type(self).__name__}.update: no gradient for parameter {name!r}; "
                               f"got gradients for {sorted(grads)}")
            if np.shape(grads[name]) != p.shape:
                raise ValueError(f"{type(self).__name__}.update: the gradient of {name} must have the parameter's "
                                 f"shape {p.shape}. Received: {np.shape(grads[name])}")
        self.iterations += 1
        if self.clipping:  # without a clipping option the gradients are used as they are
            grads = clip_gradients({k: grads[k] for k in params}, convention=self.convention, **self.clipping)
        for name, p in params.items():
            g = grads[name]
            if self.weight_decay:
                if self.decoupled_weight_decay[self.convention]:
                    p -= self.learning_rate * self.weight_decay * p
                else:
                    g = g + self.weight_decay * p
            self.update_parameter(p, g, self.state.setdefault(name, {}))

    def update_parameter(self, p: np.ndarray, g: np.ndarray, state: dict) -> None:
        """Change ``p`` in place from its gradient ``g``; ``state`` is this parameter's memory."""
        raise NotImplementedError

    def config(self) -> dict:
        """Every hyper-parameter, by its Keras name, and the convention."""
        hyper = {k: getattr(self, k) for k in self.defaults[self.convention]}
        return {**hyper, **self.clipping, "convention": self.convention}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.config().items())})"


class SGD(Optimizer):
    """Gradient descent, with optional momentum and Nesterov momentum.

    torch ``SGD(lr, momentum, nesterov, weight_decay)``; Keras ``SGD(learning_rate,
    momentum, nesterov, weight_decay)``. Plain SGD is the same in both::

        p = p - learning_rate * g

    With momentum they keep a different quantity, the "sign convention":

    convention="torch" (the buffer holds gradients, lr applied at the end)::

        b = g                      on the first step
        b = momentum * b + g       after
        p = p - learning_rate * (g + momentum * b)     if nesterov
        p = p - learning_rate * b                      otherwise

    convention="keras" (the velocity holds steps, lr applied on the way in)::

        m = momentum * m - learning_rate * g           (m starts at 0)
        p = p + momentum * m - learning_rate * g       if nesterov
        p = p + m                                      otherwise

    At a constant learning rate m = -learning_rate * b and both give the same
    weights. When the learning rate changes (a schedule), the Keras velocity
    still carries the old rate and torch's buffer does not: the weights differ.
    ``nesterov=True`` with momentum 0 is refused by torch and is plain SGD in Keras;
    each convention does the same. Defaults: torch lr 1e-3, Keras learning_rate 1e-2.
    """

    name = "sgd"
    defaults = {
        "torch": dict(learning_rate=1e-3, momentum=0.0, nesterov=False, weight_decay=0.0),
        "keras": dict(learning_rate=1e-2, momentum=0.0, nesterov=False, weight_decay=0.0),
    }

    def __init__(self, learning_rate=None, momentum=None, nesterov=None, weight_decay=None, *,
                 convention="torch", clipvalue=None, clipnorm=None, global_clipnorm=None):
        super().__init__(convention, dict(clipvalue=clipvalue, clipnorm=clipnorm, global_clipnorm=global_clipnorm),
                         learning_rate=learning_rate, momentum=momentum, nesterov=nesterov,
                         weight_decay=weight_decay)
        self._in_range("momentum", 0.0, 1.0)
        if self.nesterov and self.momentum == 0 and convention == "torch":  # Keras computes plain SGD
            raise ValueError("SGD: nesterov=True needs a momentum > 0 under torch's convention (Keras takes it "
                             "as plain SGD). Received: momentum=0.0")

    def update_parameter(self, p, g, state):
        lr, mu = self.learning_rate, self.momentum
        if mu == 0:
            p -= lr * g
        elif self.convention == "torch":
            b = state["b"] = g.copy() if "b" not in state else mu * state["b"] + g
            p -= lr * (g + mu * b if self.nesterov else b)
        else:
            m = state["m"] = mu * state.get("m", 0.0) - lr * g
            p += mu * m - lr * g if self.nesterov else m


class Adam(Optimizer):
    """Adam: running means of g and g**2, bias-corrected.

    torch ``Adam(lr, betas=(beta_1, beta_2), eps, weight_decay)``; Keras ``Adam(learning_rate,
    beta_1, beta_2, epsilon, weight_decay)``. Both keep the same running means::

        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2

    and differ in where epsilon goes:

    convention="torch" (the paper's epsilon, added to the bias-corrected root)::

        p = p - learning_rate / (1 - beta_1**t) * m / (sqrt(v) / sqrt(1 - beta_2**t) + epsilon)

    convention="keras" ("epsilon hat", added before the bias correction)::

        alpha = learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        p = p - alpha * m / (sqrt(v) + epsilon)

    The two agree only if Keras's epsilon is torch's times sqrt(1 - beta_2**t),
    a different number at every step. Defaults: epsilon 1e-8 (torch) vs 1e-7 (Keras).
    ``weight_decay`` is L2 in torch's Adam and decoupled in Keras's (module doc).
    """

    name = "adam"
    defaults = {
        "torch": dict(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.0),
        "keras": dict(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=0.0),
    }

    def __init__(self, learning_rate=None, beta_1=None, beta_2=None, epsilon=None, weight_decay=None, *,
                 convention="torch", clipvalue=None, clipnorm=None, global_clipnorm=None):
        super().__init__(convention, dict(clipvalue=clipvalue, clipnorm=clipnorm, global_clipnorm=global_clipnorm),
                         learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         weight_decay=weight_decay)
        self._in_range("beta_1", 0.0, 1.0)
        self._in_range("beta_2", 0.0, 1.0)
        self._in_range("epsilon", 0.0, np.inf)

    def update_parameter(self, p, g, state):
        t, b1, b2 = self.iterations, self.beta_1, self.beta_2
        if not state:  # both running means start at 0
            state["m"], state["v"] = np.zeros_like(p), np.zeros_like(p)
        m = state["m"] = b1 * state["m"] + (1 - b1) * g
        v = state["v"] = b2 * state["v"] + (1 - b2) * g * g
        # math.sqrt, not np.sqrt: a Python float keeps float32 arithmetic in float32 (as torch's
        # bias corrections do); NumPy's float64 scalar would promote a float32 m and v to float64.
        if self.convention == "torch":
            p -= self.learning_rate / (1 - b1**t) * m / (np.sqrt(v) / math.sqrt(1 - b2**t) + self.epsilon)
        else:
            alpha = self.learning_rate * math.sqrt(1 - b2**t) / (1 - b1**t)
            p -= alpha * m / (np.sqrt(v) + self.epsilon)


class AdamW(Adam):
    """Adam with decoupled weight decay, in both frameworks::

        p = p - learning_rate * weight_decay * p        # first, the gradient is left alone
        then Adam's update, with Adam's epsilon convention (see ``Adam``)

    torch ``AdamW(lr, betas, eps, weight_decay)`` writes the decay as
    ``p *= 1 - lr * weight_decay``; Keras ``AdamW`` (any Keras optimizer given a
    ``weight_decay``) as ``p -= p * weight_decay * learning_rate``: the same
    number. Defaults: weight_decay 1e-2 (torch) vs 4e-3 (Keras).
    """

    name = "adamw"
    defaults = {
        "torch": dict(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=1e-2),
        "keras": dict(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=4e-3),
    }
    decoupled_weight_decay = {"torch": True, "keras": True}


class RMSprop(Optimizer):
    """RMSprop: divide by a running root mean square of the gradient.

    torch ``RMSprop(lr, alpha=rho, eps, momentum, centered, weight_decay)``;
    Keras ``RMSprop(learning_rate, rho, momentum, epsilon, centered, weight_decay)``::

        v = rho * v + (1 - rho) * g**2
        mg = rho * mg + (1 - rho) * g                  # centered only: the mean gradient
        var = v - mg**2 if centered else v

    The frameworks differ in where epsilon goes, inside or outside the root:

    convention="torch"::   denom = sqrt(var) + epsilon
    convention="keras"::   denom = sqrt(var + epsilon)

    and, with momentum, in where the learning rate goes (as SGD's momentum)::

        torch:  b = momentum * b + g / denom;                  p = p - learning_rate * b
        keras:  m = momentum * m + learning_rate * g / denom;  p = p - m
        without momentum, both:                                p = p - learning_rate * g / denom

    Defaults: torch lr 1e-2, alpha 0.99, eps 1e-8; Keras learning_rate 1e-3, rho 0.9, epsilon 1e-7.
    """

    name = "rmsprop"
    defaults = {
        "torch": dict(learning_rate=1e-2, rho=0.99, momentum=0.0, epsilon=1e-8, centered=False, weight_decay=0.0),
        "keras": dict(learning_rate=1e-3, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, weight_decay=0.0),
    }

    def __init__(self, learning_rate=None, rho=None, momentum=None, epsilon=None, centered=None, weight_decay=None,
                 *, convention="torch", clipvalue=None, clipnorm=None, global_clipnorm=None):
        super().__init__(convention, dict(clipvalue=clipvalue, clipnorm=clipnorm, global_clipnorm=global_clipnorm),
                         learning_rate=learning_rate, rho=rho, momentum=momentum, epsilon=epsilon,
                         centered=centered, weight_decay=weight_decay)
        self._in_range("rho", 0.0, 1.0)
        self._in_range("momentum", 0.0, 1.0)
        self._in_range("epsilon", 0.0, np.inf)

    def update_parameter(self, p, g, state):
        rho, lr = self.rho, self.learning_rate
        v = state["v"] = rho * state.get("v", 0.0) + (1 - rho) * g * g
        var = v
        if self.centered:
            mg = state["mg"] = rho * state.get("mg", 0.0) + (1 - rho) * g
            var = v - mg * mg
        if self.convention == "torch":
            denom = np.sqrt(var) + self.epsilon
        else:
            denom = np.sqrt(var + self.epsilon)
        if self.momentum == 0:
            p -= lr * g / denom
        elif self.convention == "torch":
            b = state["b"] = self.momentum * state.get("b", 0.0) + g / denom
            p -= lr * b
        else:
            m = state["m"] = self.momentum * state.get("m", 0.0) + lr * g / denom
            p -= m


class Adagrad(Optimizer):
    """Adagrad: divide by the root of the sum of every squared gradient so far.

    torch ``Adagrad(lr, eps, initial_accumulator_value, weight_decay)``; Keras
    ``Adagrad(learning_rate, initial_accumulator_value, epsilon, weight_decay)``::

        s = initial_accumulator_value       before the first step
        s = s + g**2

    convention="torch"::   p = p - learning_rate * g / (sqrt(s) + epsilon)
    convention="keras"::   p = p - learning_rate * g / sqrt(s + epsilon)

    The accumulator starts at 0 in torch and at 0.1 in Keras by default, which
    changes the first steps the most (torch's first step is about
    learning_rate * sign(g)). Defaults: torch lr 1e-2, eps 1e-10;
    Keras learning_rate 1e-3, epsilon 1e-7.
    """

    name = "adagrad"
    defaults = {
        "torch": dict(learning_rate=1e-2, initial_accumulator_value=0.0, epsilon=1e-10, weight_decay=0.0),
        "keras": dict(learning_rate=1e-3, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=0.0),
    }

    def __init__(self, learning_rate=None, initial_accumulator_value=None, epsilon=None, weight_decay=None, *,
                 convention="torch", clipvalue=None, clipnorm=None, global_clipnorm=None):
        super().__init__(convention, dict(clipvalue=clipvalue, clipnorm=clipnorm, global_clipnorm=global_clipnorm),
                         learning_rate=learning_rate, initial_accumulator_value=initial_accumulator_value,
                         epsilon=epsilon, weight_decay=weight_decay)
        self._in_range("initial_accumulator_value", 0.0, np.inf)
        self._in_range("epsilon", 0.0, np.inf)

    def update_parameter(self, p, g, state):
        s = state["s"] = state.get("s", self.initial_accumulator_value) + g * g
        if self.convention == "torch":
            p -= self.learning_rate * g / (np.sqrt(s) + self.epsilon)
        else:
            p -= self.learning_rate * g / np.sqrt(s + self.epsilon)
