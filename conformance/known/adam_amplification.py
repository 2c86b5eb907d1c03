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

Adam's family (``adam_family.py`` holds each member's intervals and corners). The
derivation above needs three things of an optimizer: its state is a running function
of the gradient that is monotone in it, so an interval of gradients gives an interval of
state; its update is monotone in each quantity it reads, so over the box of those
intervals it lies between its values at the corners; and the float32 error of its
coefficients is bounded. Each of these holds for:

- AMSGrad (``Adam(amsgrad=True)``): m and v as Adam's, and ``v_max = max(v_max, v)``.
  max is monotone and exact in float32, so ``v_max`` lies in ``[max(v_max_lo, v_lo),
  max(v_max_hi, v_hi)]``; the update is Adam's with ``v_max`` for v, taken over
  [m] x [v_max]; its coefficients are Adam's (rho as above).
- NAdam: m and v as Adam's; the update ``lr (c1 g + c2 m) / (sqrt(v / (1 - beta_2**t))
  + eps)`` also reads the gradient itself, with c1 = (1 - mu_t) / (1 - P_t) and c2 =
  mu_{t+1} / (1 - P_t mu_{t+1}) both positive (mu_t = beta_1 (1 - 0.5 * 0.96**(t psi)) <
  1, P_t their product): linear in (g, m) and shrinking in size as v grows, so its extremes
  over [g] x [m] x [v] are at the 8 corners. The momentum schedule in float32: 0.96**(k psi)
  carries (k psi + 3) u relative (its base rounded, the power), so mu_k carries ``e_mu(k) =
  x (k psi + 3) u / (1 - x) + 3u`` with x = 0.5 * 0.96**(k psi); P_t, a float32 product of t
  of them, ``e_P(t) = sum over k <= t of (e_mu(k) + 2u)``; then ``e_c1 = mu_t e_mu(t) / (1 -
  mu_t) + P_t e_P(t) / (1 - P_t) + 3u`` and ``e_c2 = e_mu(t + 1) + P_t mu_{t+1} (e_P(t) +
  e_mu(t + 1) + u) / (1 - P_t mu_{t+1}) + 3u``. rho_t = max(e_c1, e_c2) + v's correction
  error / 2 + 16u (the update's operations), and since c1 g and c2 m can cancel, rho_t
  multiplies the size of the terms, ``(c1 max|g| + c2 max|m|) / denom(v_lo)``, not of
  their sum. (Computed: rho_1 is 1,032u, 999u of it v's bias correction; P_t's error
  adds at most 8u, at t = 1, since P_t < 0.9**t; mu_t's error at most 32u, at t = 100.)
- Adamax: m as Adam's and ``u = max(beta_2 u, |g| + eps)`` (Keras: ``|g|``, with eps
  added to u in the update). max and |.| are monotone: u lies in ``[max(beta_2 u_lo,
  min|g| + eps), max(beta_2 u_hi, max|g| + eps)]``, min|g| = 0 where the gradient's
  interval holds 0, each bound widened by u relative (one float32 operation on each side
  of the max, which is exact). The update ``m / ((1 - beta_1**t) u)`` grows with m and
  shrinks in size as u grows: corners over [m] x [u]. rho_t = beta_1's correction error +
  9u. Adamax amplifies only where u, the largest recent |g|, is itself as small as the
  gradient's rounding, as on the rings lesson below.

The corners are evaluated by the reference's own ``update_parameter`` from a state
each rule writes in the optimizer's own keys, so at every step the bound also checks
that the rule describes the reference: the box holds the reference's own state after
the step (it must: the reference's gradient lies in the gradient's interval) and the
corners its own update, up to float64 rounding (``PathBound.described``). A changed
formula whose state means something else (AMSGrad keeping the bias-corrected v in
``v_max``) fails that check and is refused, instead of widening the corners.

Left out: Adadelta, whose step ``sqrt(d + eps) / sqrt(s + eps) * g`` carries the
running size of its own past steps d, a function of the framework's own past updates,
not of the gradients alone (the box would have to carry d through the update's own
interval; not derived here), and RMSprop and Adagrad, not derived either. Their float32
partings are judged by the other probes or fail.

Measured on the rings lesson below under each (learning rate 0.01, batches of 20,
``tests/engine/test_adam_family_amplification.py``): W2[5, 7] ends 10 steps 2e-5 (torch)
and 1e-4 (Keras) from the reference under AMSGrad, 3e-6 (torch, within the row) and 3e-4
(Keras) under NAdam, 7e-6 and 2e-4 under Adamax; each parting is within its bound, and
NumPy's own float32 run within it too.

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
from .adam_family import RULES, U32, AdamRule, rule_for, step_of


@dataclass
class PathBound:
    """The bound along a path: per step t (1..K), per parameter, arrays of the entries' values."""

    bound: dict  # t -> {name: Z_t}
    apart: dict  # t -> {name: |f_t - r_t|}
    gradient: dict  # t -> {name: |g_t|}, the reference's gradient
    rounding: dict  # t -> {name: B_t}, the float32 rounding bound of the framework's gradient
    error: dict  # t -> {name: e_t} (signed) where the framework's gradient was measured, else {}
    amplification: dict  # t -> {name: S_t / D_t}, what Adam made of each unit of gradient difference
    described: bool = True  # the box held the reference's own state and update at every step (adam_family)

    def within(self) -> bool:
        """Every entry within its bound at every step, and every measured gradient error within rounding."""
        return self.described and all(np.all(self.apart[t][n] <= self.bound[t][n]) for t in self.bound for n in self.bound[t]) and all(
            np.all(np.abs(self.error[t][n]) <= self.rounding[t][n]) for t in self.error for n in self.error[t])


def update_at(optimizer, t: int, m: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Adam's update at step t from the moments (m, v), by the reference's own formula.

    A zero gradient leaves the moments at ``beta * state``: the state is set to
    (m / beta_1, v / beta_2), so the step computes its update at (m, v) itself.
    """
    zero = np.zeros_like(m)
    return step_of(optimizer, t, zero, AdamRule(optimizer, m.shape).state(zero, m, v))


def bound_path(lesson, X, y, batches, make_model: Callable, optimizer, framework_path: dict,
               framework_gradient: Callable | None = None) -> PathBound:
    """The bound ``Z_t`` (module doc) of every entry along the framework's path, and what it was made of.

    ``make_model(params)``: a float64 reference network on ``params`` (the case's loss convention);
    ``optimizer``: a fresh reference optimizer of Adam's family (the case's convention);
    ``framework_path[t]``: the framework's weights after step t, for t = 0 (the start) to K = len(batches);
    ``framework_gradient(params, idx)``: the framework's own gradient there (optional: checks ``e_t <= B_t``).
    """
    reference = make_model(framework_path[0])
    atol, rtol = tolerance("float32").atol, tolerance("float32").rtol
    moments = {name: rule_for(optimizer, p.shape) for name, p in reference.params.items()}
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
        out.bound[t], out.apart[t], out.gradient[t], out.rounding[t], out.error[t], out.amplification[t] = (
            {}, {}, {}, rounding, {}, {})
        for name in total:
            d = np.abs(g_f[name] - g[name]) + rounding[name]
            rule = moments[name]
            rule.add(g[name] - d, g[name] + d)
            low, high = rule.update_range(t)
            update = before[name] - reference.params[name]
            out.described = out.described and _describes(rule, optimizer.state[name], update, low, high)
            spread = np.maximum(high - update, update - low)
            f_t = np.asarray(framework_path[t][name], dtype=np.float64)
            total[name] = total[name] + spread + rule.rho(t) * rule.size(t) + U32 * np.abs(f_t)
            out.bound[t][name], out.gradient[t][name] = total[name].copy(), np.abs(g[name])
            out.apart[t][name] = np.abs(f_t - reference.params[name])
            out.amplification[t][name] = spread / d
            if measured is not None:
                out.error[t][name] = np.asarray(measured[name], dtype=np.float64) - g_f[name]
        optimizer.iterations = t  # update_at moved it; the reference's next step is t + 1
    return out



def _describes(rule, state: dict, update, low, high) -> bool:
    """The rule's box holds the reference's own state after the step, and its corners the reference's own
    update (up to the reference's float64 rounding): else the rule's model of the optimizer is not the
    reference's (a changed formula whose state means something else), and its corners bound nothing."""
    slack = tolerance("float64").atol + tolerance("float64").rtol * np.abs(update)
    return rule.holds(state) and bool(np.all(low - slack <= update) and np.all(update <= high + slack))


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
    """Adam's family (``adam_family.RULES``: Adam, AdamW, AMSGrad, NAdam, Adamax) in float32 on a plain MLP, without weight decay or clipping (the bound carries neither)."""
    name, hyper = optimizer_of(inputs.lesson, case.optimizer)
    optimizer = get_optimizer(name, convention=convention_of(case.framework), **hyper)
    return (case.dtype == "float32" and optimizer.name in RULES and not inputs.lesson.regularized
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


DISPLAY = {"adam": "Adam", "adamw": "AdamW", "amsgrad": "AMSGrad", "nadam": "NAdam", "adamax": "Adamax"}


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
        "message": f"explained: {DISPLAY.get(optimizer, optimizer)} amplified float32 gradient rounding {size} into {y_k:.1e} (bound {z_k:.1e}) "
                   f"at {entry}; the float64 reference given the framework's measured gradient errors ends "
                   f"{apart:.1e} from it",
    }
