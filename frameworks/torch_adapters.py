"""torch optimizers that compute Keras's formulas, for a model ported from Keras that must train the same.

Where no setting of a torch optimizer gives Keras's numbers (Adam and AMSGrad, RMSprop, Adagrad,
Adamax: the epsilon sits elsewhere; Nadam: its float32 0.96: docs/conventions-optimizers.md), these small
``torch.optim.Optimizer`` classes write Keras's update out; ``KerasBatchNorm1d``,
``KerasExponentialDecay``, ``KerasClassWeightedCrossEntropy`` and ``KerasSELU`` do the same for a layer,
a schedule, a loss and an activation (its derivative at 0: conformance/tests/test_activation_adapters.py).
Keras's names and defaults; no weight decay (Keras's is decoupled: ``AdamW``) and no clipping
(``torch.nn.utils.clip_grad_norm_`` before ``step``).
Each is held to ``keras.optimizers`` at the float64 tolerance by ``conformance/tests/test_adapters.py``.
``nnparity translate "keras.optimizers.Adam(...)"`` names them.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from reference.activation_conventions import SELU


class _KerasFormula(torch.optim.Optimizer):
    """The loop every optimizer below shares: each parameter with a gradient, its state made at its first
    step (``_start``), then Keras's update written out (``_update``)."""

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state.update(self._start(p, group))
                self._update(p, p.grad, group, state)

    def _start(self, p, group) -> dict:
        raise NotImplementedError

    def _update(self, p, g, group, state) -> None:
        raise NotImplementedError


class KerasAdam(_KerasFormula):
    """Keras's Adam, with its "epsilon hat"::

        m = beta_1 * m + (1 - beta_1) * g;   v = beta_2 * v + (1 - beta_2) * g**2
        v_max = max(v_max, v) and v_max in place of v          (amsgrad=True)
        alpha = learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        p = p - alpha * m / (sqrt(v) + epsilon)
    """

    def __init__(self, params, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False):
        super().__init__(params, {"learning_rate": learning_rate, "beta_1": beta_1, "beta_2": beta_2,
                                  "epsilon": epsilon, "amsgrad": amsgrad})

    def _start(self, p, group) -> dict:
        return dict(t=0, m=torch.zeros_like(p), v=torch.zeros_like(p), v_max=torch.zeros_like(p))

    def _update(self, p, g, group, state) -> None:
        b1, b2 = group["beta_1"], group["beta_2"]
        state["t"] += 1
        t, m, v = state["t"], state["m"], state["v"]
        m.mul_(b1).add_(g, alpha=1 - b1)
        v.mul_(b2).addcmul_(g, g, value=1 - b2)
        if group["amsgrad"]:
            v = torch.maximum(state["v_max"], v, out=state["v_max"])
        alpha = group["learning_rate"] * math.sqrt(1 - b2**t) / (1 - b1**t)
        p.sub_(alpha * m / (v.sqrt() + group["epsilon"]))


class KerasRMSprop(_KerasFormula):
    """Keras's RMSprop, epsilon inside the root and the learning rate inside the momentum::

        v = rho * v + (1 - rho) * g**2;   mg = rho * mg + (1 - rho) * g  (centered)
        denom = sqrt((v - mg**2 if centered else v) + epsilon)
        m = momentum * m + learning_rate * g / denom;  p = p - m   (p = p - learning_rate * g / denom without)
    """

    def __init__(self, params, learning_rate=1e-3, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
        super().__init__(params, {"learning_rate": learning_rate, "rho": rho, "momentum": momentum,
                                  "epsilon": epsilon, "centered": centered})

    def _start(self, p, group) -> dict:
        return dict(v=torch.zeros_like(p), mg=torch.zeros_like(p), m=torch.zeros_like(p))

    def _update(self, p, g, group, state) -> None:
        rho, v = group["rho"], state["v"]
        v.mul_(rho).addcmul_(g, g, value=1 - rho)
        var = v
        if group["centered"]:
            state["mg"].mul_(rho).add_(g, alpha=1 - rho)
            var = v - state["mg"] ** 2
        increment = group["learning_rate"] * g / (var + group["epsilon"]).sqrt()
        if group["momentum"] > 0:
            increment = state["m"].mul_(group["momentum"]).add_(increment)
        p.sub_(increment)


class KerasAdagrad(_KerasFormula):
    """Keras's Adagrad, epsilon inside the root::

        s = s + g**2   (s starts at initial_accumulator_value, 0.1 by default);
        p = p - learning_rate * g / sqrt(s + epsilon)
    """

    def __init__(self, params, learning_rate=1e-3, initial_accumulator_value=0.1, epsilon=1e-7):
        super().__init__(params, {"learning_rate": learning_rate, "initial_accumulator_value": initial_accumulator_value,
                                  "epsilon": epsilon})

    def _start(self, p, group) -> dict:
        return dict(s=torch.full_like(p, group["initial_accumulator_value"]))

    def _update(self, p, g, group, state) -> None:
        state["s"].addcmul_(g, g)
        p.sub_(group["learning_rate"] * g / (state["s"] + group["epsilon"]).sqrt())


class KerasAdamax(_KerasFormula):
    """Keras's Adamax, epsilon after the max::

        m = beta_1 * m + (1 - beta_1) * g;   u = max(beta_2 * u, |g|)
        p = p - learning_rate * m / ((1 - beta_1**t) * (u + epsilon))
    """

    def __init__(self, params, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        super().__init__(params, {"learning_rate": learning_rate, "beta_1": beta_1, "beta_2": beta_2,
                                  "epsilon": epsilon})

    def _start(self, p, group) -> dict:
        return dict(t=0, m=torch.zeros_like(p), u=torch.zeros_like(p))

    def _update(self, p, g, group, state) -> None:
        b1, b2 = group["beta_1"], group["beta_2"]
        state["t"] += 1
        state["m"].mul_(b1).add_(g, alpha=1 - b1)
        torch.maximum(state["u"] * b2, g.abs(), out=state["u"])
        p.sub_(group["learning_rate"] * state["m"] / ((1 - b1 ** state["t"]) * (state["u"] + group["epsilon"])))


class KerasNadam(_KerasFormula):
    """Keras's Nadam: its momentum schedule ``0.96**t`` with Keras's float32 0.96 (TensorFlow rounds that Python
    float through float32 even for a float64 model, in ``mu_t`` and ``mu_{t+1}``; its running product takes the
    exact 0.96), the product kept in float64::

        mu_t = beta_1 * (1 - 0.5 * float32(0.96)**t);    P_t = P_{t-1} * beta_1 * (1 - 0.5 * 0.96**t)
        m = beta_1 * m + (1 - beta_1) * g;   v = beta_2 * v + (1 - beta_2) * g**2
        p = p - learning_rate * (mu_{t+1} m / (1 - P_t mu_{t+1}) + (1 - mu_t) g / (1 - P_t))
                              / (sqrt(v / (1 - beta_2**t)) + epsilon)

    torch's ``NAdam(momentum_decay=1.0)`` is this schedule with the exact 0.96 and its product in float32:
    3.2e-9 from Keras after 20 steps (docs/conventions-optimizers.md); its default momentum_decay 4e-3, 5.7e-3.
    """

    decay = float(np.float32(0.96))  # Keras's ops.cast(0.96, "float64") on TensorFlow: 0.9599999785423279

    def __init__(self, params, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        super().__init__(params, {"learning_rate": learning_rate, "beta_1": beta_1, "beta_2": beta_2,
                                  "epsilon": epsilon})

    def _start(self, p, group) -> dict:
        return dict(t=0, product=1.0, m=torch.zeros_like(p), v=torch.zeros_like(p))

    def _update(self, p, g, group, state) -> None:
        b1, b2 = group["beta_1"], group["beta_2"]
        state["t"] += 1
        t = state["t"]
        state["product"] *= b1 * (1 - 0.5 * 0.96**t)
        mu, mu_next, product = b1 * (1 - 0.5 * self.decay**t), b1 * (1 - 0.5 * self.decay ** (t + 1)), state["product"]
        m, v = state["m"].mul_(b1).add_(g, alpha=1 - b1), state["v"].mul_(b2).addcmul_(g, g, value=1 - b2)
        m_hat = mu_next * m / (1 - product * mu_next) + (1 - mu) * g / (1 - product)
        p.sub_(m_hat * group["learning_rate"] / ((v / (1 - b2**t)).sqrt() + group["epsilon"]))


class KerasBatchNorm1d(torch.nn.Module):
    """Keras's ``BatchNormalization`` as a torch layer: its momentum, its epsilon, its biased running variance.

    torch's ``BatchNorm1d`` takes Keras's momentum as ``1 - momentum`` and its epsilon as ``eps``,
    but always updates the running variance with the batch's unbiased variance (x N/(N-1)); no
    setting changes that (docs/regularizers.md). In training, with the batch's mean and biased var::

        y = gamma * (x - mean) / sqrt(var + epsilon) + beta
        moving_mean = momentum * moving_mean + (1 - momentum) * mean
        moving_variance = momentum * moving_variance + (1 - momentum) * var        (biased, as Keras)

    and in evaluation the moving statistics in their place.
    """

    def __init__(self, num_features: int, momentum: float = 0.99, epsilon: float = 1e-3, dtype=None):
        super().__init__()
        self.momentum, self.epsilon = momentum, epsilon
        self.weight = torch.nn.Parameter(torch.ones(num_features, dtype=dtype))
        self.bias = torch.nn.Parameter(torch.zeros(num_features, dtype=dtype))
        self.register_buffer("moving_mean", torch.zeros(num_features, dtype=dtype))
        self.register_buffer("moving_variance", torch.ones(num_features, dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            mean, var = x.mean(dim=0), x.var(dim=0, unbiased=False)
            with torch.no_grad():
                self.moving_mean.mul_(self.momentum).add_(mean, alpha=1 - self.momentum)
                self.moving_variance.mul_(self.momentum).add_(var, alpha=1 - self.momentum)
        else:
            mean, var = self.moving_mean, self.moving_variance
        return self.weight * (x - mean) / torch.sqrt(var + self.epsilon) + self.bias


class KerasExponentialDecay(torch.optim.lr_scheduler.LRScheduler):
    """Keras's ``ExponentialDecay`` as a torch scheduler: call ``scheduler.step()`` after every batch.

    ``learning_rate(step) = initial_learning_rate * decay_rate**(step / decay_steps)`` (``floor`` of the
    exponent if ``staircase``), computed in float32 as Keras computes it even for a float64 model
    (docs/conventions-training.md), so the rates are Keras's to the last bit.
    """

    def __init__(self, optimizer, initial_learning_rate, decay_steps, decay_rate, staircase=False, last_epoch=-1):
        self.keras = (initial_learning_rate, decay_steps, decay_rate, staircase)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        lr0, steps, rate, staircase = self.keras
        p = np.float32(self.last_epoch) / np.float32(steps)
        if staircase:
            p = np.floor(p)
        return [float(np.float32(lr0) * np.power(np.float32(rate), p))] * len(self.optimizer.param_groups)


class KerasClassWeightedCrossEntropy(torch.nn.Module):
    """The cross-entropy Keras's ``fit(class_weight=...)`` minimises, as a torch loss on logits and class indices::

        L = sum_i w[y_i] * l_i / N       (torch's CrossEntropyLoss(weight=w) divides by sum_i w[y_i] instead)
    """

    def __init__(self, weight):
        super().__init__()
        self.register_buffer("weight", torch.as_tensor(weight))

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return (self.weight[target] * F.cross_entropy(logits, target, reduction="none")).mean()


class _KerasSELUFunction(torch.autograd.Function):
    """``F.selu`` forward; TensorFlow's ``SeluGrad`` backward, from the output: scale where a >= 0."""

    @staticmethod
    def forward(ctx, z):
        a = F.selu(z)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * torch.where(a < 0, a + SELU.scale * SELU.alpha, SELU.scale)


class KerasSELU(torch.nn.Module):
    """Keras's ``activations.selu`` as a torch layer: torch's values, Keras's derivative at exactly 0::

        selu(z)  = scale * z if z > 0 else scale * alpha * (exp(z) - 1)
        selu'(z) = scale if z >= 0 else scale * alpha * exp(z)    (computed as a + scale * alpha, as TensorFlow)

    torch's ``nn.SELU`` takes the left branch at z = 0, selu'(0) = scale * alpha = 1.7581; Keras (TensorFlow)
    the right, scale = 1.0507: 7.074e-1 apart at z = 0 only, and no argument of either moves it
    (docs/conventions-activations.md). A ReLU-like kink sits at 0 exactly when a weight or an input is 0.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return _KerasSELUFunction.apply(z)
