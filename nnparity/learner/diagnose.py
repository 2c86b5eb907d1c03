"""Is the learner's backprop right? Its output and gradients against PyTorch and Keras, and the usual cause.

``check_learner`` runs the learner's class (``load.py``) from the lesson's
canonical weights, asks every installed framework's twin for the same output
and gradients, and compares them through the one helper (``conformance/compare.py``) at the
float64 tolerance: a from-scratch float64 NumPy network computes the same
formulas, so it must agree as closely as the frameworks agree with each other.
(Reading a gradient back from an update, ``(w_before - w_after) / lr``, adds at
most ulp(|w|) / lr: 4.4e-16 / 0.01 = 4.4e-14 for the catalog's |w| < 4 and
smallest learning rate, far inside 1e-12.)

Where a quantity diverges, ``cause_of_gradient`` and ``cause_of_forward`` say what
the usual mistake is when the numbers show it, and only then:

- the gradient is an exact multiple of the right one: N (a missing 1/m), -1 (the
  update adds), 0 (never updated), 1/N, or one factor shared by every parameter
  (the update uses its own learning rate; for MSE, 2 and 1/2 can also be its 2);
- the gradient is exactly what a known mistake computes (``MISTAKES``: the
  derivative applied to the wrong quantity, an MSE gradient under a
  cross-entropy loss, backprop through weights already updated, ...);
- the output does not depend on a parameter, is the last layer's z, or is a
  softmax normalised over the wrong axis.
"""

from __future__ import annotations

import numpy as np

from conformance.cases import reference_model
from conformance.compare import compare
from conformance.lessons import Lesson, canonical_params, get_lesson
from conformance.tolerances import tolerance
from frameworks import get_twin
from reference import get_activation, get_loss

from .data import check_data
from .intermediates import walk
from .layernorm_read import cause_of_layernorm
from .optimizer_read import class_readings, step_findings
from .load import LearnerError, LearnerRun, run_learner
from .verdict import CheckReport, Finding, compare_run

DTYPE = "float64"  # learners' NumPy code runs in float64; so do the twins it is checked against
# The default comparison: the NumPy reference, which the conformance suite (``nnparity run``) proves equal to
# PyTorch and Keras for every lesson; it answers without importing either (--framework asks for them).
REFERENCE = "reference"


# ---- what the frameworks compute -------------------------------------------------------------------------


def framework_values(framework: str, lesson: Lesson, X, y, params=None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(output a_L, {parameter: gradient}) of ``framework``'s twin (or of the NumPy reference, ``REFERENCE``)
    from ``params`` (the canonical weights unless given)."""
    params = canonical_params(lesson) if params is None else params
    if framework == REFERENCE:
        model = reference_model(lesson, params)
        grads = model.gradients(X, y)
        grads.pop("X")
        return model.a[-1], grads
    twin = get_twin(framework, lesson, DTYPE)
    twin.set_params(params)
    output = twin.forward(X)[f"a{lesson.n_layers}"]
    grads = twin.gradients(X, y)
    grads.pop("X")
    return np.asarray(output), grads


# ---- known mistakes, replayed -----------------------------------------------------------------------------


def backprop(lesson: Lesson, params, X, y, *, output_delta="right", hidden_derivative="right",
             bias_sum="batch", updated_weights_lr=None) -> dict[str, np.ndarray]:
    """The lesson's gradients, with one classic mistake switched on (the defaults compute them right).

    - ``output_delta="mse_under_ce"``: dz_L = (a - y) * f'(z_L) / N, MSE's delta where the loss is a cross-entropy
    - ``hidden_derivative="of_z"``: f'(.) evaluated by its formula in a, fed z (sigmoid: z (1 - z))
    - ``hidden_derivative="relu_of_a"``: ReLU's derivative written as (a >= 0): always 1
    - ``bias_sum="all"``: db = sum of dz over everything, broadcast to every unit
    - ``updated_weights_lr=lr``: da_{l-1} = dz_l @ (W_l - lr dW_l).T, through weights already updated
    """
    acts = [get_activation(a) for a in lesson.activations]
    loss = get_loss(lesson.loss)
    a, zs, as_ = X, [], [X]
    for i, act in enumerate(acts, start=1):
        z = a @ params[f"W{i}"] + (params[f"b{i}"] if f"b{i}" in params else 0)
        a = act.forward(z)
        zs.append(z)
        as_.append(a)
    n = X.shape[0]
    last = acts[-1]
    if output_delta == "mse_under_ce":
        dz = (a - y) * last.derivative(zs[-1], a) / n
    elif loss.fused_activation == last.name:
        dz = loss.from_logits().backward(zs[-1], y)
    else:
        dz = last.backward(zs[-1], a, loss.backward(a, y))
    grads = {}
    for i in range(len(acts), 0, -1):
        grads[f"W{i}"] = as_[i - 1].T @ dz
        if f"b{i}" in params:
            grads[f"b{i}"] = dz.sum(axis=0) if bias_sum == "batch" else np.full(dz.shape[1], dz.sum())
        if i > 1:
            W = params[f"W{i}"]
            if updated_weights_lr is not None:
                W = W - updated_weights_lr * grads[f"W{i}"]
            da = dz @ W.T
            act, z_below, a_below = acts[i - 2], zs[i - 2], as_[i - 1]
            if hidden_derivative == "of_z" and act.name in ("sigmoid", "tanh"):
                dz = da * act.derivative(None, z_below)  # the a-formula, fed z
            elif hidden_derivative == "relu_of_a" and act.name == "relu":
                dz = da * (a_below >= 0)
            else:
                dz = act.backward(z_below, a_below, da)
    return grads


# name -> (what the learner did, the backprop switches that replay it)
MISTAKES: dict[str, tuple[str, dict]] = {
    "derivative-of-z": ("the activation's derivative written for a = f(z) (like a * (1 - a)) is applied to z",
                        {"hidden_derivative": "of_z"}),
    "relu-derivative-of-a": ("ReLU's derivative is taken as (a >= 0), which is 1 everywhere since a = max(z, 0) >= 0: "
                             "use (z > 0)", {"hidden_derivative": "relu_of_a"}),
    "mse-delta-under-ce": ("the output delta is MSE's (a - y) * f'(z) while the loss is a cross-entropy, whose delta "
                           "through the fused activation is just (a - y) / m", {"output_delta": "mse_under_ce"}),
    "bias-summed-over-all": ("the bias gradient sums dz over every element (np.sum(dz)) instead of over the batch "
                             "(np.sum(dz, axis=0))", {"bias_sum": "all"}),
    "updated-weights": ("backward propagates through a weight it has already updated: compute every gradient "
                        "first, then update", {"updated_weights_lr": "lr"}),
}

# exact ratios learner / right -> what usually produces them ({n}: batch size). A factor shared by
# every gradient and not listed here is blamed on the learning rate (see cause_of_gradients).
RATIOS = (
    (0.0, "{p} did not change in the update: it is never updated (or its gradient is always zero)"),
    (-1.0, "{p}'s gradient has the wrong sign: the update adds it (w += lr * grad), or the error is taken as "
           "y - output"),
    ("n", "{p}'s gradient is {n} times too large, the batch size: a missing 1/m (divide by m = X.shape[0])"),
    ("-n", "{p}'s gradient is -{n} times the right one: a missing 1/m and the wrong sign"),
    ("1/n", "{p}'s gradient is 1/{n} of the right one: divided by the batch size twice"),
)


def exact_ratio(actual: np.ndarray, right: np.ndarray) -> float | None:
    """r when actual == r * right to float64 rounding (least squares, then checked), else None."""
    a, e = np.ravel(actual), np.ravel(right)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(e))):
        return None
    ee = float(e @ e)
    if ee == 0.0:
        return None
    r = float(a @ e) / ee
    scale = max(float(np.max(np.abs(a))), abs(r) * float(np.max(np.abs(e))), 1e-300)
    return r if float(np.max(np.abs(a - r * e))) <= 1e-9 * scale else None


def _ratio_cause(name: str, r: float, n: int) -> str | None:
    for factor, text in RATIOS:
        value = {"n": n, "-n": -n, "1/n": 1 / n}.get(factor, factor)
        if (value == 0 and abs(r) < 1e-12) or (value != 0 and abs(r - value) <= 1e-9 * abs(value)):
            return text.format(p=name, n=n)
    return None


def _shared_factor_cause(r: float, run: LearnerRun, lesson: Lesson) -> str:
    text = f"every gradient is off by the same factor {r:.6g}: "
    if lesson.loss == "mse" and (abs(r - 0.5) < 1e-9 or abs(r - 2) < 1e-9):
        text += ("the 2 of the MSE derivative 2 (a - y) / m is " + ("missing" if r < 1 else "doubled") + ", or ")
    return text + (f"the update does not use the learning rate it is given ({run.learning_rate}); "
                   "does it use its own?")


def _replay(lesson: Lesson, switches: dict, params, X, y) -> dict[str, np.ndarray] | None:
    """``backprop`` with a mistake switched on, or None where the mistake cannot occur in this lesson."""
    acts = lesson.activations
    if switches.get("output_delta") == "mse_under_ce" and (lesson.loss not in ("bce", "cce") or acts[-1] != "sigmoid"):
        return None  # MSE's elementwise delta only has a meaning through an elementwise output
    if switches.get("hidden_derivative") == "of_z" and not set(acts[:-1]) & {"sigmoid", "tanh"}:
        return None
    if switches.get("hidden_derivative") == "relu_of_a" and "relu" not in acts[:-1]:
        return None
    if "bias_sum" in switches and not lesson.use_bias:
        return None
    if lesson.batchnorm or lesson.dropout or lesson.layernorm:  # the replays are of a plain MLP (layernorm_read)
        return None
    with np.errstate(all="ignore"):
        return backprop(lesson, params, X, y, **switches)


def cause_of_gradients(findings: list[Finding], run: LearnerRun, right: dict, lesson: Lesson, params, X, y,
                       forward_diverges: bool) -> None:
    """Fill in ``cause`` on every diverging gradient finding, where the numbers show one."""
    n = X.shape[0]
    bad = [f for f in findings if f.check == "gradient" and not f.passed and f.problem is None]
    ratios = {f.parameter: exact_ratio(run.gradients[f.parameter], right[f.parameter]) for f in bad}
    for f in bad:
        r = ratios[f.parameter]
        if r is not None:
            f.cause = _ratio_cause(f.parameter, r, n)
    # One factor on every gradient (a 1-element gradient is a multiple of anything: it needs company).
    shared = {round(r, 9) for r in ratios.values() if r is not None}
    if (len(bad) == len(run.slots) and None not in ratios.values() and len(shared) == 1
            and any(right[f.parameter].size > 1 for f in bad) and all(f.cause is None for f in bad)):
        cause = _shared_factor_cause(shared.pop(), run, lesson)
        for f in bad:
            f.cause = cause
    tol = tolerance(DTYPE)
    for _, (text, switches) in MISTAKES.items():
        undiagnosed = [f for f in bad if f.cause is None]
        if not undiagnosed:
            break
        switches = {k: (run.learning_rate if v == "lr" else v) for k, v in switches.items()}
        replay = _replay(lesson, switches, params, X, y)
        if replay is None:
            continue
        for f in undiagnosed:
            mine = {f.parameter: run.gradients[f.parameter]}
            if compare(mine, {f.parameter: replay[f.parameter]}, atol=tol.atol, rtol=tol.rtol).passed:
                f.cause = text
    if forward_diverges:
        for f in bad:
            if f.cause is None:
                f.cause = "the output already diverges (see forward): fix forward first, this gradient flows through it"


def cause_of_forward(finding: Finding, run: LearnerRun, lesson: Lesson, params, right_z: np.ndarray) -> None:
    """Fill in ``cause`` (and blame a parameter) on a diverging forward finding."""
    k = lesson.sizes[-1]
    out = run.output_2d(k)
    tol = tolerance(DTYPE)
    if run.output_dtype == "float32":
        finding.cause = "forward returns float32: compute in float64 (the frameworks' float64 is the reference here)"
        return
    if compare({"z": out}, {"z": right_z}, atol=tol.atol, rtol=tol.rtol).passed and lesson.activations[-1] != "linear":
        finding.cause = f"forward returns the last layer's z, before its {lesson.activations[-1]}: the output activation is missing"
        return
    if lesson.activations[-1] == "softmax" and k > 1:
        rows = np.allclose(out.sum(axis=1), 1.0)
        columns = np.allclose(out.sum(axis=0), 1.0)
        if columns and not rows:
            finding.cause = ("the output's columns sum to 1, not its rows: softmax is normalised over the batch "
                             "(axis=0); normalise each sample over its classes (axis=1, keepdims=True)")
            return
    unused = []
    if run.forward_fn is None:  # a script: its forward cannot be run again (see the first wrong intermediate)
        return
    with np.errstate(all="ignore"):
        base = run.forward_fn(params)
        for name in run.slots:
            moved = dict(params)
            moved[name] = np.asarray(params[name]) + 0.5
            if np.array_equal(run.forward_fn(moved), base, equal_nan=True):
                unused.append(name)
    if unused:
        finding.parameter = unused[0] if len(unused) == 1 else None
        finding.cause = (f"the output does not depend on {', '.join(unused)}: forward never uses "
                         f"{'it' if len(unused) == 1 else 'them'} (self.{unused[0]} is not read, or is overwritten)")


# ---- the check ----------------------------------------------------------------------------------------------


def unsupported(lesson: Lesson, script: bool = False) -> str | None:
    """Why a learner's code cannot be checked on ``lesson`` (None when it can).

    A learner's class has W and b only: dropout draws its own random masks, and batch
    normalisation has parameters (gamma, beta) and running statistics of its own. A script's
    BatchNorm and LayerNorm are found by their names (``script_read``), its dropout masks read back
    from its loop (``regularizers_read``). A class's LayerNorm has gamma and beta only (no running
    statistics), found by name as W and b are: gamma1, beta1, ... (``parameters.class_param_names``).
    """
    extras = [what for what, present in (("dropout", lesson.dropout and not script),
                                         ("batch normalisation", lesson.batchnorm and not script),
                                         ("class weights", bool(lesson.class_weights))) if present]
    if not extras:
        return None
    return (f"lesson {lesson.name} has {' and '.join(extras)}; nnparity check supports lessons of Dense layers "
            f"and activations only (W1, b1, W2, ...), with an unweighted loss: try {lesson.name.split('-')[0]} "
            "or see `nnparity lessons`")


def check_learner(target: str, lesson_name: str, frameworks: list[str], optimizer: str | None = None) -> CheckReport:
    """Run ``target`` ("path.py:ClassName") on lesson ``lesson_name`` and compare it with every framework.

    Raises ``load.LearnerError`` when the class cannot be checked.
    """
    lesson = get_lesson(lesson_name)
    reason = unsupported(lesson)
    if reason:
        raise LearnerError(reason)
    params = canonical_params(lesson)
    X, y = check_data(lesson)
    lr = float(lesson.hyperparameters["learning_rate"])
    run = run_learner(target, lesson, params, X, y, lr)
    tol = tolerance(DTYPE)
    expected = {fw: framework_values(fw, lesson, X, y) for fw in frameworks}
    if optimizer:  # the class's own optimizer: gradients read from its state (optimizer_read)
        class_readings(run, lesson, optimizer, params, expected[frameworks[0]][1])
    findings = compare_run(run, expected, lesson)
    forward = findings[0]
    right_grads = expected[frameworks[0]][1]
    model = reference_model(lesson, params)
    model.gradients(X, y)
    run.steps = walk(model, run.records)
    if not forward.passed:
        cause_of_forward(forward, run, lesson, params, model.z[-1])
    cause_of_gradients(findings, run, right_grads, lesson, params, X, y, forward_diverges=not forward.passed)
    cause_of_layernorm(findings, run, lesson, params, X, y, run.numbers)
    if optimizer:
        findings += step_findings(run, optimizer)
    return CheckReport(target, lesson, list(frameworks), run, findings, tol.atol, tol.rtol)
