"""Adam amplifying the float32 rounding of a small gradient: a bound on the difference it can make.

A float32 gradient entry is exact up to rounding of the size of the *terms* that
made it (``magnitudes.py``), not of the entry itself: dL/dW2[5, 7] of a 2-8-8-1
network on a batch of 20 is a sum of 20 products of size 0.1 that cancel to 1e-8
(measured: ``rings-2-8-8-1`` under Adam 0.01, step 10), so its float32 value
carries an error of about 1e-10, 1% of itself. SGD moves the weight by
``lr * 1e-10``. Adam does not: its step ``lr * m_hat / (sqrt(v_hat) + eps)`` is
scale-free, and where ``sqrt(v_hat)`` is as small as the gradients themselves
(1e-6 here) a change of the gradient by ``d`` changes the step by about
``lr * (1 - beta_1) / (1 - beta_1**t) * d / (sqrt(v_hat) + eps)``: 1,500 to
8,000 times ``d`` in that case (0.01 / 1.2e-6 at step 1). Ten steps of it put
the weight 1.5e-5 (torch) and 6.2e-5 (Keras) from the float64 reference, over
the float32 trajectory@10 row (5e-6), while every quantity of the walk's one
full-batch step agrees. NumPy's own float32 gradients do the same (1.2e-5 with
Adam run in float64 on them): float32 rounding, not a framework. The probe
``adaptive-step-on-a-zero-gradient`` (``zero_gradients.py``) is the case of a
gradient exactly 0; this is the general one.

The bound. Let the reference take steps ``t = 1..K`` from the weights ``r_0``,
with gradients ``g_t`` (float64, at ``r_{t-1}``), moments ``m_t, v_t`` and
updates ``u_t = r_{t-1} - r_t``; the framework starts from the same float32
weights, ``f_0 = r_0``, and goes ``f_1, ..., f_K``. Its gradient at step t is
``g_t + p_t + e_t``:

- ``p_t = G(f_{t-1}) - G(r_{t-1})``, the float64 gradient ``G`` at the framework's
  weights minus at the reference's: what the earlier steps' differences make of
  the gradient. Computed exactly (in float64), not bounded.
- ``e_t``, its float32 rounding at its own weights: ``|e_t| <= B_t = atol * M_t +
  rtol * |G(f_{t-1})|``, with ``M_t`` the size of the terms that made the entry
  (``magnitudes.py``) and (atol, rtol) the float32 row of ``tolerances.py``: the
  bound the suite's scaled comparisons already hold a float32 gradient to. Where
  the framework's gradient is measured (``framework_gradient``), ``|e_t| <= B_t``
  is checked for every entry; a gradient outside it is not rounding.

So the framework's gradient lies in ``[g_t - D_t, g_t + D_t]``, ``D_t = |p_t| +
B_t``, and its moments in intervals carried with the reference's recursion
(float32's own rounding of ``m`` and ``v`` widens them by 2u and 3u relative;
u = 2**-24 is float32's unit roundoff)::

    m_lo = b1 m_lo + (1 - b1) (g - D),           m_hi = b1 m_hi + (1 - b1) (g + D)
    v_lo = b2 v_lo + (1 - b2) min (g +- D)**2,   v_hi = b2 v_hi + (1 - b2) max (g +- D)**2
    (min is 0 where the interval holds 0)

Adam's update ``m / (sqrt(v) + ...)`` grows with m and, for m of either sign,
shrinks in size as v grows, so over the box [m_lo, m_hi] x [v_lo, v_hi] it lies
between its values at the corners: ``[a_t, b_t]``, each corner evaluated by the
reference's own update formula (``reference/optimizers.py``, the case's
convention: torch's epsilon or Keras's epsilon-hat). The framework's update
differs from ``u_t`` by at most ``S_t = max(b_t - u_t, u_t - a_t)``, plus its own
float32 arithmetic: the bias corrections ``1 - beta**t`` taken in float32
(relative error ``(t + 1) u beta**t / (1 - beta**t) + u``: 1.3e-5 for beta_2 =
0.999 at t = 1), eight more operations (8u), and storing the weight (u |f_t|):
``R_t = rho_t max(|a_t|, |b_t|) + u |f_t|``. Since ``f_t - r_t = (f_{t-1} -
r_{t-1}) - (update_f - u_t) + rounding``::

    |f_K - r_K| <= Z_K = sum over t <= K of (S_t + R_t)

per entry, to first order in u (products of two roundings are left out: 1e-14
of the terms). A difference within ``Z`` is what Adam makes of the gradients'
float32 rounding; one outside it is not. Where ``|g_t| >> D_t`` (most entries)
``S_t`` is a rounding-sized fraction of the step; where ``|g_t| <~ D_t`` (a
cancelling sum) it reaches the step itself.

``explain`` (the known difference ``float32-adam-amplified-gradient-rounding``)
retrains both sides recording every step up to the last failed snapshot and
accepts the failure only if **every** entry of every parameter, at **every**
step, lies within its ``Z_t`` and every measured gradient error within its
``B_t``. A wrong optimizer formula (a bias correction) moves well-conditioned
entries by a step-sized amount at step 1, where ``Z`` is a rounding-sized
fraction of a step, and is refused; so is a wrong gradient (``e_t > B_t``).

Beside the bound, a measurement (``replay``, in the evidence, not part of the
verdict): the float64 reference run again with the framework's own measured
gradient errors ``e_t`` added to its gradients. On the 2-8-8-1 lesson it ends
1.5e-7 (torch) and 9.1e-7 (Keras) from the framework over every entry after 10
steps, while the plain reference ends 1.5e-5 and 6.2e-5 from it: the gradients'
rounding, through Adam, is the whole parting; Adam's own float32 arithmetic and
the weights' rounding are the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from frameworks import convention_of
from reference import get_optimizer

from ..cases import optimizer_of, reference_model
from ..magnitudes import magnitudes
from ..tolerances import tolerance

# the reference optimizers of Adam's family: the update m / (sqrt(v) + eps) of two running means
FAMILY = ("adam", "adamw")
U32 = float(np.finfo(np.float32).eps) / 2  # float32's unit roundoff, 2**-24
OTHER_OPERATIONS = 8  # float32 operations of one update besides the bias corrections (lr, sqrt, +eps, /, *, -)


@dataclass
class PathBound:
    """The bound along a path: per step t (1..K), per parameter, arrays of the entries' values."""

    bound: dict  # t -> {name: Z_t}
    apart: dict  # t -> {name: |f_t - r_t|}
    gradient: dict  # t -> {name: |g_t|}, the reference's gradient
    rounding: dict  # t -> {name: B_t}, the float32 rounding bound of the framework's gradient
    error: dict  # t -> {name: e_t} (signed) where the framework's gradient was measured, else {}
    amplification: dict  # t -> {name: S_t / D_t}, what Adam made of each unit of gradient difference

    def within(self) -> bool:
        """Every entry within its bound at every step, and every measured gradient error within rounding."""
        return all(np.all(self.apart[t][n] <= self.bound[t][n]) for t in self.bound for n in self.bound[t]) and all(
            np.all(np.abs(self.error[t][n]) <= self.rounding[t][n]) for t in self.error for n in self.error[t])


def update_at(optimizer, t: int, m: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Adam's update at step t from the moments (m, v), by the reference's own formula.

    A zero gradient leaves the moments at ``beta * state``: the state is set to
    (m / beta_1, v / beta_2), so the step computes its update at (m, v) itself.
    """
    optimizer.iterations = t
    p = np.zeros_like(m)
    optimizer.update_parameter(p, np.zeros_like(m), {"m": m / optimizer.beta_1, "v": v / optimizer.beta_2})
    return -p


def _correction_error(beta: float, t: int) -> float:
    """The relative error of 1 - beta**t computed in float32 (beta rounded, its power, the subtraction)."""
    return (t + 1) * U32 * beta**t / (1 - beta**t) + U32


def _update_range(optimizer, t: int, m_lo, m_hi, v_lo, v_hi) -> tuple[np.ndarray, np.ndarray]:
    """[a_t, b_t]: the least and greatest update over the moments' box (at its corners)."""
    corners = [update_at(optimizer, t, m, v) for m in (m_lo, m_hi) for v in (v_lo, v_hi)]
    return np.minimum.reduce(corners), np.maximum.reduce(corners)


class _Moments:
    """The intervals the framework's moments lie in, for one parameter."""

    def __init__(self, shape):
        self.m_lo, self.m_hi, self.v_lo, self.v_hi = (np.zeros(shape) for _ in range(4))

    def add(self, b1: float, b2: float, g_lo: np.ndarray, g_hi: np.ndarray) -> None:
        m_size = b1 * np.maximum(np.abs(self.m_lo), np.abs(self.m_hi)) + (1 - b1) * np.maximum(np.abs(g_lo),
                                                                                               np.abs(g_hi))
        self.m_lo = b1 * self.m_lo + (1 - b1) * g_lo - 2 * U32 * m_size
        self.m_hi = b1 * self.m_hi + (1 - b1) * g_hi + 2 * U32 * m_size
        square_hi = np.maximum(g_lo**2, g_hi**2)
        square_lo = np.where(g_lo * g_hi <= 0, 0.0, np.minimum(g_lo**2, g_hi**2))
        self.v_lo = (b2 * self.v_lo + (1 - b2) * square_lo) * (1 - 3 * U32)
        self.v_hi = (b2 * self.v_hi + (1 - b2) * square_hi) * (1 + 3 * U32)


def bound_path(lesson, X, y, batches, make_model: Callable, optimizer, framework_path: dict,
               framework_gradient: Callable | None = None) -> PathBound:
    """The bound ``Z_t`` (module doc) of every entry along the framework's path, and what it was made of.

    ``make_model(params)``: a float64 reference network on ``params`` (the case's loss convention);
    ``optimizer``: a fresh reference optimizer of Adam's family (the case's convention);
    ``framework_path[t]``: the framework's weights after step t, for t = 0 (the start) to K = len(batches);
    ``framework_gradient(params, idx)``: the framework's own gradient there (optional: checks ``e_t <= B_t``).
    """
    reference = make_model(framework_path[0])
    b1, b2 = optimizer.beta_1, optimizer.beta_2
    atol, rtol = tolerance("float32").atol, tolerance("float32").rtol
    moments = {name: _Moments(p.shape) for name, p in reference.params.items()}
    total = {name: np.zeros(p.shape) for name, p in reference.params.items()}
    out = PathBound({}, {}, {}, {}, {}, {})
    for t, idx in enumerate(batches, start=1):
        Xb, yb = X[idx], y[idx]
        before = {name: p.copy() for name, p in reference.params.items()}
        g = reference.gradients(Xb, yb)
        optimizer.update(reference.params, g)
        at_framework = make_model(framework_path[t - 1])
        g_f = at_framework.gradients(Xb, yb)
        rounding = {name: atol * size + rtol * np.abs(g_f[name]) for name, size in magnitudes(
            "gradients", lesson, at_framework, framework_path[t - 1], Xb, yb, "float32").items() if name in total}
        measured = framework_gradient(framework_path[t - 1], idx) if framework_gradient else None
        rho = _correction_error(b1, t) + _correction_error(b2, t) / 2 + OTHER_OPERATIONS * U32
        out.bound[t], out.apart[t], out.gradient[t], out.rounding[t], out.error[t], out.amplification[t] = (
            {}, {}, {}, rounding, {}, {})
        for name in total:
            d = np.abs(g_f[name] - g[name]) + rounding[name]
            moments[name].add(b1, b2, g[name] - d, g[name] + d)
            mo = moments[name]
            low, high = _update_range(optimizer, t, mo.m_lo, mo.m_hi, mo.v_lo, mo.v_hi)
            update = before[name] - reference.params[name]
            spread = np.maximum(high - update, update - low)
            f_t = np.asarray(framework_path[t][name], dtype=np.float64)
            total[name] = total[name] + spread + rho * np.maximum(np.abs(low), np.abs(high)) + U32 * np.abs(f_t)
            out.bound[t][name], out.gradient[t][name] = total[name].copy(), np.abs(g[name])
            out.apart[t][name] = np.abs(f_t - reference.params[name])
            out.amplification[t][name] = spread / d
            if measured is not None:
                out.error[t][name] = np.asarray(measured[name], dtype=np.float64) - g_f[name]
        optimizer.iterations = t  # update_at moved it; the reference's next step is t + 1
    return out



def replay(X, y, batches, make_model: Callable, optimizer, start: dict, errors: dict) -> dict:
    """The float64 reference from ``start`` with ``errors[t]`` (the framework's measured float32 gradient
    errors, ``PathBound.error``) added to its gradient at each step t: {t: its weights after step t}.

    Where it ends as close to the framework as rounding allows while the reference without them ends
    far, the gradients' rounding is what parted the two (measured, beside the bound)."""
    model = make_model(start)
    out = {}
    for t, idx in enumerate(batches, start=1):
        g = model.gradients(X[idx], y[idx])
        optimizer.update(model.params, {name: g[name] + errors[t][name] for name in model.params})
        out[t] = {name: p.copy() for name, p in model.params.items()}
    return out

def _snapshot(item_name: str) -> tuple[str, int]:
    """("W2", 10) from "W2@10" (a trajectory's snapshot); ("W2", 1) from "W2" (the step check)."""
    name, _, k = item_name.partition("@")
    return name, int(k) if k else 1


def measure(inputs, case, batches) -> tuple[PathBound, dict, dict]:
    """(the bound along the framework's path, that path, the replay) for ``case`` over ``batches``: both
    sides retrained from the case's inputs, every step recorded (``explain``; tools/measure_adam_amplification.py)."""
    lesson = inputs.lesson
    name, hyper = optimizer_of(lesson, case.optimizer)
    make_optimizer = lambda: get_optimizer(name, convention=convention_of(case.framework), **hyper)
    twin = inputs.twin(case.framework)
    path = twin.train(inputs.X, inputs.y, name, hyper, batches, record=tuple(range(1, len(batches) + 1)))
    path[0] = inputs.ref_params

    def framework_gradient(params, idx):
        twin.set_params(params)
        return twin.gradients(inputs.X[idx], inputs.y[idx])

    # the reference of the case (cases.reference_model: the framework's loss convention), on any weights
    make_model = lambda params: reference_model(lesson, params, case.framework, case.dtype,
                                                framework=case.framework)
    bound = bound_path(lesson, inputs.ref_X, inputs.ref_y, batches, make_model, make_optimizer(), path,
                       framework_gradient)
    twin.set_params(inputs.params)
    replayed = replay(inputs.ref_X, inputs.ref_y, batches, make_model, make_optimizer(), inputs.ref_params,
                      bound.error)
    return bound, path, replayed


def applies(inputs, case) -> bool:
    """Adam's family in float32 on a plain MLP, without weight decay or clipping (the bound carries neither)."""
    name, hyper = optimizer_of(inputs.lesson, case.optimizer)
    optimizer = get_optimizer(name, convention=convention_of(case.framework), **hyper)
    return (case.dtype == "float32" and optimizer.name in FAMILY and not inputs.lesson.regularized
            and not optimizer.weight_decay and not optimizer.clipping and optimizer.beta_1 > 0 and optimizer.beta_2 > 0)


def explain(inputs, case, comparison) -> dict | None:
    """What was measured when Adam's amplification of float32 gradient rounding accounts for a failed
    ``step`` or ``trajectory`` check (the module doc), else None."""
    failed = comparison.failures()
    if not failed or any(item.problem is not None for item in failed) or not applies(inputs, case):
        return None
    steps = max(_snapshot(item.name)[1] for item in failed)
    full_batch = all("@" not in item.name for item in failed)  # the step check: one step on the whole batch
    batches = [np.arange(len(inputs.X))] if full_batch else inputs.batches(steps)
    bound, path, replayed = measure(inputs, case, batches)
    if not bound.within():
        return None
    return _evidence(bound, failed, optimizer_of(inputs.lesson, case.optimizer)[0], replayed, path)


def _evidence(bound: PathBound, failed, optimizer: str, replayed: dict, path: dict) -> dict:
    """What the result's info keeps, at the failed entry furthest apart (``entry``, after k steps)::

        difference        |framework - reference| there (Y)
        bound             Z_k there
        gradient_error    the framework's float32 gradient error there, measured, greatest over the steps (X)
        rounding_bound    B_t there, greatest over the steps
        gradient          |g_t| there, smallest over the steps
        amplification     S_t / D_t there, greatest: how far the step moves per unit of gradient change
        closest           the greatest difference / bound over every entry and step (at most 1)
        replay_apart      the greatest |framework - replay| over every entry after k steps (``replay``)
    """
    item = max(failed, key=lambda i: i.max_abs_err)
    name, k = _snapshot(item.name)
    where = tuple(item.max_abs_index)
    at = lambda table, t: float(table[t][name][where])
    steps = range(1, k + 1)
    error = max((abs(at(bound.error, t)) for t in steps if bound.error[t]), default=None)
    entry = f"{name}[{', '.join(map(str, where))}] after {k} step{'s' if k > 1 else ''}"
    apart = max(float(np.max(np.abs(replayed[k][n] - np.asarray(path[k][n], dtype=np.float64)))) for n in replayed[k])
    size = "of unmeasured size" if error is None else f"of size {error:.1e}"
    y_k, z_k = at(bound.apart, k), at(bound.bound, k)
    return {
        "optimizer": optimizer,
        "entry": entry,
        "difference": y_k,
        "bound": z_k,
        "gradient_error": error,
        "rounding_bound": max(at(bound.rounding, t) for t in steps),
        "gradient": min(at(bound.gradient, t) for t in steps),
        "amplification": max(at(bound.amplification, t) for t in steps),
        "closest": max(float(np.max(bound.apart[t][n] / np.maximum(bound.bound[t][n], np.finfo(float).tiny)))
                       for t in bound.bound for n in bound.bound[t]),
        "replay_apart": apart,
        "message": f"explained: Adam amplified float32 gradient rounding {size} into {y_k:.1e} (bound {z_k:.1e}) "
                   f"at {entry}; the float64 reference given the framework's measured gradient errors ends "
                   f"{apart:.1e} from it",
    }
