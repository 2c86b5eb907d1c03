"""First-divergence localization: where do a framework and the reference part ways?

A failed check says *that* two implementations disagree, not *where*. ``walk``
recomputes one training step on both sides and lists every quantity in the order
the computation makes it::

    z1, a1, ..., zL, aL              forward: each layer's pre-activation and activation
                                     (and bn1, dropout1, ... in a lesson with BatchNorm or Dropout)
    loss                             the loss value
    dL/dzL, ..., dL/dz1              backward: each layer's dL/dz, from the output back
    dL/dW1, dL/db1, ..., dL/dX       the gradient of every parameter (gamma, beta too), and of the input
    W1 after step, b1 after step...  every parameter after one step of the lesson's optimizer
                                     (and BatchNorm's running statistics, which the step's forward moves)

Both lists are compared by the one helper (``compare.py``) with the case's
tolerance. The first quantity outside it is where the bug is: everything it was
computed from agreed. The quantities after it show how the error grows (or
hides: a wrong ``a1`` may still give a loss within tolerance).

The framework side needs each layer's dL/dz, which the checks never ask for: the
twins give it with ``twin.dz(X, y)`` (autograd's ``retain_grad``, Keras's
``GradientTape`` on the layers' outputs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from frameworks import convention_of, get_twin
from reference import MLP, Optimizer, get_optimizer
from reference.regularized_mlp import BATCHNORM_PARAMS, BATCHNORM_STATE

from .cases import Case, CaseInputs, optimizer_of, share_dropout_masks
from .compare import Comparison, ItemReport, compare
from .lessons import Lesson, get_lesson
from .tolerances import tolerance

STAGES = ("forward", "loss", "backward", "gradients", "step")
# framework -> why the walk cannot run there: its dL/dz of every layer (Twin.dz) is taken with tf.GradientTape
UNSUPPORTED = {fw: "the walk's dL/dz of every layer is taken with tf.GradientTape, on Keras's TensorFlow "
               "backend only" for fw in ("keras-jax", "keras-torch")}


@dataclass(frozen=True)
class Quantity:
    """One intermediate result of a training step: its name, stage and what it is."""

    name: str
    stage: str  # one of STAGES
    meaning: str


def _hidden(lesson: Lesson, l: int) -> bool:
    """Layer ``l`` has BatchNorm and Dropout, where the lesson has them (every layer but the output)."""
    return l < lesson.n_layers


def trained_names(lesson: Lesson) -> list[str]:
    """The parameters the optimizer updates, layer by layer: W1, b1, gamma1, beta1, W2, ..."""
    names = []
    for l in range(1, lesson.n_layers + 1):
        names += [f"W{l}"] + ([f"b{l}"] if lesson.use_bias else [])
        if lesson.batchnorm and _hidden(lesson, l):
            names += [f"{p}{l}" for p in BATCHNORM_PARAMS if p not in BATCHNORM_STATE]
        if lesson.layernorm and _hidden(lesson, l):
            names += [f"gamma{l}", f"beta{l}"]
    return names


def stepped_names(lesson: Lesson) -> list[str]:
    """Everything a training step changes: the trained parameters, then BatchNorm's running statistics."""
    state = [f"{p}{l}" for l in range(1, lesson.n_layers) for p in BATCHNORM_STATE] if lesson.batchnorm else []
    return trained_names(lesson) + state


def quantities(lesson: Lesson, optimizer: str | None = None) -> list[Quantity]:
    """Every quantity of one training step of ``lesson``, in the order it is computed.

    ``optimizer`` names a setting of ``optimizer_specs.py`` in place of the lesson's own.
    """
    L = lesson.n_layers
    out = []
    for i, act in enumerate(lesson.activations, start=1):
        bias = f" + b{i}" if lesson.use_bias else ""
        out.append(Quantity(f"z{i}", "forward", f"layer {i} pre-activation, z{i} = a{i - 1} @ W{i}{bias}"))
        into = f"z{i}"
        if lesson.batchnorm and _hidden(lesson, i):
            out.append(Quantity(f"bn{i}", "forward", f"layer {i} BatchNorm, bn{i} = gamma{i} * (z{i} - mean) "
                                f"/ sqrt(var + eps) + beta{i}, over the batch"))
            into = f"bn{i}"
        if lesson.layernorm and _hidden(lesson, i):
            out.append(Quantity(f"ln{i}", "forward", f"layer {i} LayerNorm, ln{i} = gamma{i} * (z{i} - mean) "
                                f"/ sqrt(var + {lesson.layernorm_epsilon:g}) + beta{i}, over each row's units"))
            into = f"ln{i}"
        out.append(Quantity(f"a{i}", "forward", f"layer {i} activation, a{i} = {act}({into})"))
        if lesson.dropout and _hidden(lesson, i):
            out.append(Quantity(f"dropout{i}", "forward", f"layer {i} Dropout({lesson.dropout:g}): a{i} times "
                                "the step's shared keep-mask / (1 - rate)"))
    penalty = f" + {lesson.kernel_l2:g} * sum(W ** 2)" if lesson.kernel_l2 else ""
    out.append(Quantity("loss", "loss", f"the loss, {lesson.loss}(a{L}, y){penalty}"))
    for i in range(L, 0, -1):
        where = "the output layer" if i == L else f"layer {i}"
        out.append(Quantity(f"dL/dz{i}", "backward", f"gradient of the loss with respect to z{i}, in {where}"))
    for name in trained_names(lesson):
        out.append(Quantity(f"dL/d{name}", "gradients", f"gradient of the loss with respect to {name}"))
    out.append(Quantity("dL/dX", "gradients", "gradient of the loss with respect to the input X"))
    opt_name, opt_hyper = optimizer_of(lesson, optimizer)
    hyper = ", ".join(f"{k}={v:g}" for k, v in opt_hyper.items())
    trained = trained_names(lesson)
    for name in stepped_names(lesson):
        how = f"one {opt_name}({hyper}) step" if name in trained else "the step's forward (a running statistic)"
        out.append(Quantity(f"{name} after step", "step", f"{name} after {how}"))
    return out


def _walk_dict(lesson, forward, loss, dz, grads, after) -> dict[str, np.ndarray]:
    """The quantities, named and ordered as ``quantities(lesson)``."""
    out = dict(forward)
    out["loss"] = np.asarray(loss)
    for i in range(lesson.n_layers, 0, -1):
        out[f"dL/dz{i}"] = dz[f"dz{i}"]
    for name in trained_names(lesson):
        out[f"dL/d{name}"] = grads[name]
    out["dL/dX"] = grads["X"]
    for name in stepped_names(lesson):
        out[f"{name} after step"] = after[name]
    return out


def reference_walk(
    inputs: CaseInputs,
    make_model: Callable[[Lesson, dict], MLP] | None = None,
    make_optimizer: Callable[[Lesson], Optimizer] | None = None,
    convention: str = "torch",
    optimizer: str | None = None,
) -> dict[str, np.ndarray]:
    """Every quantity as the NumPy reference computes it (float64, on the case's inputs rounded to its dtype).

    ``make_model`` and ``make_optimizer`` choose the reference's parts (a test
    passes broken ones to prove the walk finds them; by default the checks'
    ``reference_model``). The step follows ``convention``'s formulas (``walk``
    passes the case's framework) and ``optimizer``, a named setting in place of
    the lesson's own. The step is taken by a second model, fresh from the same
    weights: a training forward moves BatchNorm's running statistics, so the
    step starts where the ``step`` check's does.
    """
    lesson, X, y = inputs.lesson, inputs.ref_X, inputs.ref_y

    def fresh_model():
        if make_model is None:
            return inputs.reference_model(convention, own_loss=True)
        model = make_model(lesson, inputs.ref_params)
        share_dropout_masks(model, lesson, len(X))
        return model

    model = fresh_model()
    loss = model.loss_value(X, y)  # runs forward: every stage is kept
    forward = model.trace()
    grads = model.backward(y)
    dz = {f"dz{i}": d for i, d in enumerate(model.dz, start=1)}
    if make_optimizer:
        opt = make_optimizer(lesson)
    else:
        name, hyper = optimizer_of(lesson, optimizer)
        opt = get_optimizer(name, convention=convention_of(convention), **hyper)
    stepper = fresh_model()
    stepper.step(X, y, opt)
    return _walk_dict(lesson, forward, loss, dz, grads, stepper.params)


def framework_walk(twin, inputs: CaseInputs, optimizer: str | None = None) -> dict[str, np.ndarray]:
    """Every quantity as a framework twin computes it, from the case's weights (reloaded before the
    step, as the reference's step starts afresh), with the first step's dropout masks."""
    lesson, params, X, y = inputs.lesson, inputs.params, inputs.X, inputs.y
    twin.set_params(params)
    share_dropout_masks(twin, lesson, len(X))
    forward, loss, dz, grads = twin.forward(X), twin.loss(X, y), twin.dz(X, y), twin.gradients(X, y)
    twin.set_params(params)
    after = twin.step(X, y, *optimizer_of(lesson, optimizer))
    twin.set_params(params)
    return _walk_dict(lesson, forward, loss, dz, grads, after)


def _finite(x: float):
    return x if math.isfinite(x) else None


@dataclass
class Divergence:
    """The first quantity where a framework and the reference disagree, and what follows it."""

    case: Case
    quantity: Quantity
    item: ItemReport  # the torch.testing-style statistics of that quantity
    atol: float
    rtol: float
    agreed: list[str] = field(default_factory=list)  # every quantity before it (all agreed)
    after: list[tuple[Quantity, ItemReport]] = field(default_factory=list)

    def message(self) -> str:
        q = self.quantity
        stats = Comparison(what="", atol=self.atol, rtol=self.rtol, items=[self.item]).message()
        lines = [
            f"First divergence in {self.case.id}: {q.name} ({q.stage}: {q.meaning})",
            f"  Everything before it agrees: {', '.join(self.agreed) if self.agreed else '(it is the first quantity)'}",
            *("  " + line for line in stats.splitlines()),
        ]
        if self.after:
            lines.append("  After it (greatest absolute difference; x = times the allowed difference):")
            width = max(len(qq.name) for qq, _ in self.after)
            for qq, item in self.after:
                verdict = "agrees" if item.passed else "differs"
                detail = item.problem or f"{item.max_abs_err:.2e}  x{item.worst_ratio:.1e}"
                lines.append(f"    {qq.name:<{width}}  {detail}  {verdict}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        q, it = self.quantity, self.item
        return {
            "quantity": q.name,
            "stage": q.stage,
            "meaning": q.meaning,
            "shape": list(it.shape),
            "problem": it.problem,
            "mismatched": it.n_mismatched,
            "total": it.n_total,
            "max_abs_err": _finite(it.max_abs_err),
            "max_abs_index": list(it.max_abs_index),
            "max_rel_err": _finite(it.max_rel_err),
            "max_rel_index": list(it.max_rel_index),
            "atol": self.atol,
            "rtol": self.rtol,
            "agreed_before": list(self.agreed),
            "after": [
                {"quantity": qq.name, "max_abs_err": _finite(item.max_abs_err), "passed": item.passed}
                for qq, item in self.after
            ],
        }


def walk(case: Case, twin=None, **reference_parts) -> tuple[list[Quantity], Comparison]:
    """Compare every quantity of one training step of ``case``, in order.

    ``twin`` defaults to the framework's cached twin; ``reference_parts`` go to
    ``reference_walk`` (``make_model``, ``make_optimizer``).
    """
    lesson = get_lesson(case.lesson)
    inputs = CaseInputs.build(lesson, case.dtype)  # once, for both sides
    twin = twin if twin is not None else get_twin(case.framework, lesson, case.dtype)
    tol = tolerance(case.dtype, None, lesson)
    comparison = compare(
        framework_walk(twin, inputs, case.optimizer),
        reference_walk(inputs, convention=case.framework, optimizer=case.optimizer, **reference_parts),
        atol=tol.atol,
        rtol=tol.rtol,
        what=f"walk of {case.id}",
    )
    return quantities(lesson, case.optimizer), comparison


def first_divergence(case: Case, twin=None, **reference_parts) -> Divergence | None:
    """The first quantity of ``case`` that disagrees, or None when every quantity agrees."""
    qs, comparison = walk(case, twin, **reference_parts)
    by_name = {q.name: q for q in qs}
    for i, item in enumerate(comparison.items):
        if not item.passed:
            return Divergence(
                case=case,
                quantity=by_name[item.name],
                item=item,
                atol=comparison.atol,
                rtol=comparison.rtol,
                agreed=[it.name for it in comparison.items[:i]],
                after=[(by_name[it.name], it) for it in comparison.items[i + 1:]],
            )
    return None


def first_divergences(failed_results) -> dict[Case, Divergence | None]:
    """The first divergence of every case with a failed check (``CheckResult``s), each walked once."""
    out: dict[Case, Divergence | None] = {}
    for result in failed_results:
        if result.case not in out:
            out[result.case] = first_divergence(result.case)
    return out
