"""Adam's family for the amplification bound: the intervals each keeps its state in, and its update over them.

``adam_amplification.py`` derives the bound for Adam; this module holds what changes
from one member to the next (the derivation of each is in that module's doc):

- ``AdamRule`` (Adam, AdamW without weight decay): the moments m, v;
- ``AMSGradRule``: m, v and ``v_max = max(v_max, v)``, which the update divides by;
- ``NAdamRule``: m, v, and an update that also takes the gradient itself
  (``(c1 g + c2 m) / denom``), with its momentum schedule's coefficients in float32;
- ``AdamaxRule``: m and the infinity norm ``u = max(beta_2 u, |g| + eps)`` (Keras: ``|g|``).

Each rule carries its intervals from the gradient's interval ``[g_lo, g_hi]`` at every
step (``add``), evaluates the update by the reference's own ``update_parameter`` at the
corners of the box of what the update depends on (``update_range``), and says how large
the update's terms are (``size``) and the relative error of its float32 coefficients (``rho``).
"""

from __future__ import annotations

import itertools

import numpy as np

U32 = float(np.finfo(np.float32).eps) / 2  # float32's unit roundoff, 2**-24


def correction_error(beta: float, t: int) -> float:
    """The relative error of 1 - beta**t computed in float32 (beta rounded, its power, the subtraction)."""
    return (t + 1) * U32 * beta**t / (1 - beta**t) + U32


def step_of(optimizer, t: int, g: np.ndarray, state: dict) -> np.ndarray:
    """The update the reference's ``update_parameter`` makes at step t from ``state`` (the state before it)
    and the gradient ``g``: the amount it subtracts from the parameter."""
    optimizer.iterations = t
    p = np.zeros_like(g)
    optimizer.update_parameter(p, g, state)
    return -p


def _least_square(g_lo, g_hi):
    """min g**2 over [g_lo, g_hi] (0 where the interval holds 0)."""
    return np.where(g_lo * g_hi <= 0, 0.0, np.minimum(g_lo**2, g_hi**2))


class AdamRule:
    """Adam: the update ``m / (sqrt(v) + ...)`` of two running means; it grows with m and, for m of
    either sign, shrinks in size as v grows, so its extremes over the box [m] x [v] are at the corners."""

    operations = 8  # float32 operations of one update besides the bias corrections (lr, sqrt, +eps, /, *, -)

    def __init__(self, optimizer, shape):
        self.optimizer = optimizer
        self.m_lo, self.m_hi, self.v_lo, self.v_hi = (np.zeros(shape) for _ in range(4))

    def add(self, g_lo: np.ndarray, g_hi: np.ndarray) -> None:
        """One step's moments from the gradient's interval; float32 keeps m to 2u and v to 3u relative."""
        b1, b2 = self.optimizer.beta_1, self.optimizer.beta_2
        m_size = b1 * np.maximum(np.abs(self.m_lo), np.abs(self.m_hi)) + (1 - b1) * np.maximum(np.abs(g_lo),
                                                                                               np.abs(g_hi))
        self.m_lo = b1 * self.m_lo + (1 - b1) * g_lo - 2 * U32 * m_size
        self.m_hi = b1 * self.m_hi + (1 - b1) * g_hi + 2 * U32 * m_size
        self.v_lo = (b2 * self.v_lo + (1 - b2) * _least_square(g_lo, g_hi)) * (1 - 3 * U32)
        self.v_hi = (b2 * self.v_hi + (1 - b2) * np.maximum(g_lo**2, g_hi**2)) * (1 + 3 * U32)
        self.g_lo, self.g_hi = g_lo, g_hi

    def state(self, g, m, second) -> dict:
        """The state before the step from which the step, given ``g``, reaches the moments (m, ``second``)."""
        b1, b2 = self.optimizer.beta_1, self.optimizer.beta_2
        return {"m": m / b1, "v": second / b2}

    def boxes(self):
        """(gradients, m, second) intervals the update is taken over: Adam's does not read g itself."""
        zero = np.zeros_like(self.m_lo)
        return (zero, zero), (self.m_lo, self.m_hi), (self.v_lo, self.v_hi)

    def update_range(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """[a_t, b_t]: the least and greatest update over the box, at its corners."""
        corners = [step_of(self.optimizer, t, g, self.state(g, m, s)) for g, m, s in itertools.product(*self.boxes())]
        return np.minimum.reduce(corners), np.maximum.reduce(corners)

    def size(self, t: int) -> np.ndarray:
        """The greatest size of the update's terms over the box: at the largest |g|, |m| and the smallest second."""
        (g_lo, g_hi), (m_lo, m_hi), (s_lo, _) = self.boxes()
        g, m = np.maximum(np.abs(g_lo), np.abs(g_hi)), np.maximum(np.abs(m_lo), np.abs(m_hi))
        return np.abs(step_of(self.optimizer, t, g, self.state(g, m, s_lo)))

    def intervals(self) -> dict:
        """The optimizer's state, by its own keys, as the intervals the rule keeps of it."""
        return {"m": (self.m_lo, self.m_hi), "v": (self.v_lo, self.v_hi)}

    def holds(self, state: dict) -> bool:
        """Does the box hold the reference's own state after the step? It must (the reference's gradient lies in
        the gradient's interval): where it does not, the rule does not describe this optimizer (a state of
        other keys or meaning), and the bound is not claimed."""
        boxes = self.intervals()
        return set(state) == set(boxes) and all(
            np.all(lo <= state[key]) and np.all(state[key] <= hi) for key, (lo, hi) in boxes.items())

    def rho(self, t: int) -> float:
        """The relative float32 error of the update's coefficients: the two bias corrections, the operations."""
        b1, b2 = self.optimizer.beta_1, self.optimizer.beta_2
        return correction_error(b1, t) + correction_error(b2, t) / 2 + self.operations * U32


class AMSGradRule(AdamRule):
    """AMSGrad: Adam's update with ``v_max = max(v_max, v)`` for v; max is monotone and exact in float32, so
    ``v_max`` lies in [max(v_max_lo, v_lo), max(v_max_hi, v_hi)], and the update is Adam's over [m] x [v_max]."""

    def __init__(self, optimizer, shape):
        super().__init__(optimizer, shape)
        self.w_lo, self.w_hi = np.zeros(shape), np.zeros(shape)

    def add(self, g_lo, g_hi):
        super().add(g_lo, g_hi)
        self.w_lo, self.w_hi = np.maximum(self.w_lo, self.v_lo), np.maximum(self.w_hi, self.v_hi)

    def state(self, g, m, second):
        return {"m": m / self.optimizer.beta_1, "v": second / self.optimizer.beta_2, "v_max": second}

    def boxes(self):
        zero = np.zeros_like(self.m_lo)
        return (zero, zero), (self.m_lo, self.m_hi), (self.w_lo, self.w_hi)

    def intervals(self):
        return {**super().intervals(), "v_max": (self.w_lo, self.w_hi)}


class NAdamRule(AdamRule):
    """NAdam: ``(c1 g + c2 m) / (sqrt(v / (1 - beta_2**t)) + eps)`` with c1 = (1 - mu_t) / (1 - P_t) > 0 and
    c2 = mu_{t+1} / (1 - P_t mu_{t+1}) > 0: linear in (g, m), shrinking in size as v grows, so its extremes
    over the box [g] x [m] x [v] are at the corners."""

    operations = 16  # two products and divisions for c1 g and c2 m, their sum, /v's correction, sqrt, +eps, /, lr, -

    def state(self, g, m, second):
        b1, b2 = self.optimizer.beta_1, self.optimizer.beta_2
        return {"m": (m - (1 - b1) * g) / b1, "v": (second - (1 - b2) * g * g) / b2}

    def boxes(self):
        return (self.g_lo, self.g_hi), (self.m_lo, self.m_hi), (self.v_lo, self.v_hi)

    def _mu_error(self, k: int) -> float:
        """Relative error of mu_k = beta_1 (1 - 0.5 * 0.96**(k psi)) in float32: the power (its base rounded,
        k psi + 3 u), 1 - x, beta_1 rounded and the product."""
        x = 0.5 * 0.96 ** (k * self.optimizer.momentum_decay)
        return x * (k * self.optimizer.momentum_decay + 3) * U32 / (1 - x) + 3 * U32

    def rho(self, t: int) -> float:
        """v's bias correction, c1's and c2's float32 error (P_t a float32 product of t factors), the operations."""
        opt = self.optimizer
        mu, mu_next, product = opt.mu(t, 0.96), opt.mu(t + 1, 0.96), opt.mu_product
        e_product = sum(self._mu_error(k) + 2 * U32 for k in range(1, t + 1))
        e_c1 = mu * self._mu_error(t) / (1 - mu) + product * e_product / (1 - product) + 3 * U32
        e_c2 = (self._mu_error(t + 1) + product * mu_next * (e_product + self._mu_error(t + 1) + U32)
                / (1 - product * mu_next) + 3 * U32)
        return max(e_c1, e_c2) + correction_error(opt.beta_2, t) / 2 + self.operations * U32


class AdamaxRule(AdamRule):
    """Adamax: ``m / u`` (torch; Keras ``m / (u + eps)``) with ``u = max(beta_2 u, |g| + eps)`` (Keras
    ``|g|``). max and |.| are monotone: u lies in [max(beta_2 u_lo, min|g| + eps), max(beta_2 u_hi,
    max|g| + eps)], each float32 operation within u relative; the update grows with m and shrinks in size
    as u grows, so its extremes over [m] x [u] are at the corners."""

    operations = 9  # torch: lr / correction, m / u, the product, -; Keras: lr m, u + eps, the product, /, -; max

    def __init__(self, optimizer, shape):
        super().__init__(optimizer, shape)
        self.eps_in_max = optimizer.epsilon if optimizer.convention == "torch" else 0.0

    def add(self, g_lo, g_hi):
        v_lo, v_hi = self.v_lo, self.v_hi  # u is kept in v's place
        super().add(g_lo, g_hi)
        b2, eps = self.optimizer.beta_2, self.eps_in_max
        least = np.sqrt(_least_square(g_lo, g_hi))
        self.v_lo = np.maximum(b2 * v_lo, least + eps) * (1 - U32)
        self.v_hi = np.maximum(b2 * v_hi, np.maximum(np.abs(g_lo), np.abs(g_hi)) + eps) * (1 + U32)

    def state(self, g, m, second):
        # g = 0: u = max(second, eps) under torch's formula, second itself where second >= eps (u_lo can sit
        # a rounding below eps: one more u in rho's operations)
        return {"m": m / self.optimizer.beta_1, "u": second / self.optimizer.beta_2}

    def intervals(self):
        return {"m": (self.m_lo, self.m_hi), "u": (self.v_lo, self.v_hi)}

    def rho(self, t: int) -> float:
        return correction_error(self.optimizer.beta_1, t) + self.operations * U32


RULES = {"adam": AdamRule, "adamw": AdamRule, "amsgrad": AMSGradRule, "nadam": NAdamRule, "adamax": AdamaxRule}


def rule_for(optimizer, shape) -> AdamRule:
    """The rule of ``optimizer`` (a reference optimizer of ``RULES``) for a parameter of ``shape``."""
    return RULES[optimizer.name](optimizer, shape)
