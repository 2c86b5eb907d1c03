"""Four more adaptive optimizers: NAdam, Adamax, AMSGrad and Adadelta, each under torch's or Keras's convention.

The same contract as ``optimizers.py`` (``opt.update(params, grads)``, one step per
call; clipping and weight decay as written there), and the same rule: where the
frameworks write a formula differently, ``convention=`` picks which one, and a
hyper-parameter left as ``None`` takes that framework's default. A convention
accepts exactly what its framework accepts: Keras's Nadam has no ``momentum_decay``,
so ``NAdam(convention="keras")`` refuses any value but the one Keras hard-codes. Keras checks
almost no value (a learning rate of -1, a beta of 1, an epsilon of -1 are all taken); torch refuses
those, and so does the reference under either convention, naming the value.

``optimizer_registry.OPTIMIZERS`` registers them beside the five of ``optimizers.py``, so a lesson
and ``nnparity run --optimizer`` can name them and both twins build them;
``conformance/tests/test_adaptive_optimizer_conventions.py`` also runs each against
``torch.optim`` and ``keras.optimizers`` directly (docs/conventions-optimizers.md).
"""

from __future__ import annotations

import math

import numpy as np

from .optimizers import Adam, Optimizer


class NAdam(Optimizer):
    """Adam with Nesterov momentum (Dozat 2016), with a warming momentum ``mu_t``::

        mu_t = beta_1 * (1 - 0.5 * 0.96**(t * momentum_decay))       # mu_{t+1} likewise
        P_t  = mu_1 * mu_2 * ... * mu_t                                # kept as a running product
        m = beta_1 * m + (1 - beta_1) * g;   v = beta_2 * v + (1 - beta_2) * g**2
        denom = sqrt(v / (1 - beta_2**t)) + epsilon
        p = p - learning_rate * ((1 - mu_t) / (1 - P_t) * g + mu_{t+1} / (1 - P_t * mu_{t+1}) * m) / denom

    One formula in both frameworks; they differ in ``momentum_decay``:
    torch ``NAdam(lr, betas, eps, weight_decay, momentum_decay=4e-3)``; Keras
    ``Nadam(learning_rate, beta_1, beta_2, epsilon)`` has no such argument and uses
    ``0.96**t``, torch's ``momentum_decay=1``. So ``torch.optim.NAdam(momentum_decay=1.0)``
    computes Keras's numbers. Keras writes the 0.96 of ``mu_t`` and ``mu_{t+1}`` as a Python
    float that its TensorFlow backend rounds through float32 (docs/conventions.md#float32-casts):
    ``decay`` is that number, 0.9599999785423279 under ``convention="keras"`` and 0.96 under
    torch's; ``P_t``'s factors use 0.96 in both (``update``).
    Defaults: torch lr 2e-3, eps 1e-8; Keras learning_rate 1e-3, epsilon 1e-7.
    """

    name = "nadam"
    defaults = {
        "torch": dict(learning_rate=2e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8, momentum_decay=4e-3,
                      weight_decay=0.0),
        "keras": dict(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7, momentum_decay=1.0,
                      weight_decay=0.0),
    }
    decay = {"torch": 0.96, "keras": float(np.float32(0.96))}

    def __init__(self, learning_rate=None, beta_1=None, beta_2=None, epsilon=None, momentum_decay=None,
                 weight_decay=None, *, convention="torch", clipvalue=None, clipnorm=None,
                 global_clipnorm=None):
        super().__init__(convention, dict(clipvalue=clipvalue, clipnorm=clipnorm, global_clipnorm=global_clipnorm), learning_rate=learning_rate,
                         beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, momentum_decay=momentum_decay,
                         weight_decay=weight_decay)
        self._in_range("beta_1", 0.0, 1.0)
        self._in_range("beta_2", 0.0, 1.0)
        self._in_range("epsilon", 0.0, np.inf)
        self._in_range("momentum_decay", 0.0, np.inf)
        if convention == "keras" and self.momentum_decay != 1.0:
            raise ValueError("NAdam: keras.optimizers.Nadam has no momentum_decay (it uses 0.96**t, torch's "
                             f"momentum_decay=1). Received: momentum_decay={self.momentum_decay}")
        self.mu_product = 1.0  # P_t, one number for every parameter (both frameworks)

    def update(self, params, grads):
        """One step: ``P_t`` takes its new factor ``mu_t`` once, then every parameter moves.

        Both frameworks compute this factor with 0.96 exactly. torch keeps ``P_t`` in a
        float32 tensor (torch's default dtype, whatever the parameters' dtype), so the
        product is rounded to float32 at every step; Keras keeps it in the parameters' dtype.
        """
        mu = self.mu(self.iterations + 1, 0.96)
        if self.convention == "torch":
            self.mu_product = float(np.float32(self.mu_product) * np.float32(mu))
        else:
            self.mu_product *= mu
        super().update(params, grads)

    def mu(self, t: int, decay: float) -> float:
        """``mu_t = beta_1 * (1 - 0.5 * decay**(t * momentum_decay))``, the momentum of step t."""
        return self.beta_1 * (1 - 0.5 * decay ** (t * self.momentum_decay))

    def update_parameter(self, p, g, state):
        t, b1, b2, lr = self.iterations, self.beta_1, self.beta_2, self.learning_rate
        decay = self.decay[self.convention]
        mu, mu_next, product = self.mu(t, decay), self.mu(t + 1, decay), self.mu_product
        m = state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
        v = state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
        denom = np.sqrt(v / (1 - b2**t)) + self.epsilon
        p -= lr * ((1 - mu) / (1 - product) * g + mu_next / (1 - product * mu_next) * m) / denom


class Adamax(Optimizer):
    """Adam with the infinity norm (Kingma & Ba 2015, section 7)::

        m = beta_1 * m + (1 - beta_1) * g

    and the frameworks differ in where epsilon goes, inside the max or after it:

    convention="torch" (``torch.optim.Adamax(lr, betas, eps, weight_decay)``)::

        u = max(beta_2 * u, |g| + epsilon)
        p = p - learning_rate / (1 - beta_1**t) * m / u

    convention="keras" (``keras.optimizers.Adamax(learning_rate, beta_1, beta_2, epsilon)``)::

        u = max(beta_2 * u, |g|)
        p = p - learning_rate * m / ((1 - beta_1**t) * (u + epsilon))

    No setting makes them agree (epsilon 0 in both does, where no gradient is 0).
    Defaults: torch lr 2e-3, eps 1e-8; Keras learning_rate 1e-3, epsilon 1e-7.
    """

    name = "adamax"
    defaults = {
        "torch": dict(learning_rate=2e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.0),
        "keras": dict(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=0.0),
    }

    def __init__(self, learning_rate=None, beta_1=None, beta_2=None, epsilon=None, weight_decay=None, *,
                 convention="torch", clipvalue=None, clipnorm=None,
                 global_clipnorm=None):
        super().__init__(convention, dict(clipvalue=clipvalue, clipnorm=clipnorm, global_clipnorm=global_clipnorm), learning_rate=learning_rate,
                         beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, weight_decay=weight_decay)
        self._in_range("beta_1", 0.0, 1.0)
        self._in_range("beta_2", 0.0, 1.0)
        self._in_range("epsilon", 0.0, np.inf)

    def update_parameter(self, p, g, state):
        t, b1 = self.iterations, self.beta_1
        m = state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
        if self.convention == "torch":
            u = state["u"] = np.maximum(self.beta_2 * state.get("u", 0.0), np.abs(g) + self.epsilon)
            p -= self.learning_rate / (1 - b1**t) * m / u
        else:
            u = state["u"] = np.maximum(self.beta_2 * state.get("u", 0.0), np.abs(g))
            p -= self.learning_rate * m / ((1 - b1**t) * (u + self.epsilon))


class AMSGrad(Adam):
    """Adam that divides by the largest ``v`` seen so far (Reddi et al. 2018).

    torch ``Adam(..., amsgrad=True)``; Keras ``Adam(..., amsgrad=True)``::

        m, v as Adam;   v_max = max(v_max, v)      (v_max starts at 0)

    and then Adam's update with ``v_max`` in place of ``v``, under Adam's epsilon
    conventions (``Adam``): torch ``sqrt(v_max) / sqrt(1 - beta_2**t) + epsilon``, Keras
    ``sqrt(v_max) + epsilon`` with the bias correction folded into the step size.
    """

    name = "amsgrad"

    def update_parameter(self, p, g, state):
        t, b1, b2 = self.iterations, self.beta_1, self.beta_2
        m = state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
        v = state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
        v_max = state["v_max"] = np.maximum(state.get("v_max", 0.0), v)
        if self.convention == "torch":
            p -= self.learning_rate / (1 - b1**t) * m / (np.sqrt(v_max) / math.sqrt(1 - b2**t) + self.epsilon)
        else:
            alpha = self.learning_rate * math.sqrt(1 - b2**t) / (1 - b1**t)
            p -= alpha * m / (np.sqrt(v_max) + self.epsilon)


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012): the step's own running size stands in for a learning rate::

        s = rho * s + (1 - rho) * g**2                                # s, d start at 0
        delta = sqrt(d + epsilon) / sqrt(s + epsilon) * g
        d = rho * d + (1 - rho) * delta**2
        p = p - learning_rate * delta

    The same formula in torch ``Adadelta(lr, rho, eps, weight_decay)`` and Keras
    ``Adadelta(learning_rate, rho, epsilon)``; the defaults are far apart: torch lr 1.0,
    rho 0.9, eps 1e-6; Keras learning_rate 1e-3, rho 0.95, epsilon 1e-7. A model moved from
    one to the other with the defaults learns about a thousand times slower (or faster).
    """

    name = "adadelta"
    defaults = {
        "torch": dict(learning_rate=1.0, rho=0.9, epsilon=1e-6, weight_decay=0.0),
        "keras": dict(learning_rate=1e-3, rho=0.95, epsilon=1e-7, weight_decay=0.0),
    }

    def __init__(self, learning_rate=None, rho=None, epsilon=None, weight_decay=None, *, convention="torch",
                 clipvalue=None, clipnorm=None, global_clipnorm=None):
        super().__init__(convention, dict(clipvalue=clipvalue, clipnorm=clipnorm, global_clipnorm=global_clipnorm), learning_rate=learning_rate, rho=rho,
                         epsilon=epsilon, weight_decay=weight_decay)
        if not 0.0 <= self.rho <= 1.0:  # torch accepts rho = 1 (s and d stay 0: delta = g), and so does Keras
            raise ValueError(f"Adadelta: expected 0.0 <= rho <= 1.0. Received: rho={self.rho}")
        self._in_range("epsilon", 0.0, np.inf)

    def update_parameter(self, p, g, state):
        rho = self.rho
        s = state["s"] = rho * state.get("s", 0.0) + (1 - rho) * g * g
        delta = np.sqrt(state.get("d", 0.0) + self.epsilon) / np.sqrt(s + self.epsilon) * g
        state["d"] = rho * state.get("d", 0.0) + (1 - rho) * delta * delta
        p -= self.learning_rate * delta


ADAPTIVE_OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (NAdam, Adamax, AMSGrad, Adadelta)}
