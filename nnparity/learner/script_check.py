"""``nnparity check my_script.py --lesson NAME``: a learner's script, judged from its own first training step.

``script.run_script`` runs the script until its first update; ``script_read`` finds its parameters,
learning rate and data; this module compares, from the script's own starting weights and data, the
gradient each update applied with the reference's (or each framework's), walks the intermediates
the script kept (``intermediates.walk``) to the first one that is wrong, traces each wrong gradient
to the line that made it, and names the usual cause (``diagnose``) with the script's own names.
"""

from __future__ import annotations

import re

import numpy as np

from conformance.lessons import get_lesson
from conformance.tolerances import tolerance

from .calls import LearnerError
from .diagnose import DTYPE, REFERENCE, cause_of_forward, cause_of_gradients, framework_values, unsupported
from .intermediates import _views, first_wrong, origin, walk
from .layernorm_read import cause_of_layernorm
from .parameters import layer_of
from .regularizers_read import dropout_masks, reference_of
from .script import TIME_LIMIT, run_script, script_path, source_line
from .script_read import ScriptRun, find_data, find_parameters, learning_rate, read_update
from .optimizer_read import STATES, read_adam, read_momentum, read_rmsprop, split, step_findings
from .verdict import CheckReport, compare_run


def _first_layer(lesson, params, scalars):
    def forward(X):
        model, _ = reference_of(lesson, params, scalars)
        model.forward(X)
        return [model.z[0], model.a[1]]
    return forward


def read_script(target: str, lesson, lr: float | None, time_limit: float,
                optimizer: str | None = None) -> tuple[ScriptRun, dict]:
    """The script run to its first update and read (``script_read``; ``optimizer_read`` with an optimizer)."""
    path = script_path(target)
    payload = run_script(path, lesson, time_limit, per_slot=1 + STATES.get(optimizer, 0))
    payload["path_name"] = path.name
    if optimizer:
        layout, groups = split(payload, lesson, optimizer)
        found = {slot: (c["label"], c["before"], c["after"], c["line"]) for slot, (c, _) in groups.items()}
    else:
        layout, found = find_parameters(payload, lesson)
    rate, source = learning_rate(payload, lesson, lr)
    slots, params, grads, mine, reshaped, lines = read_update(layout, found, lesson, rate)
    changed = {lbl for c in payload["changes"] for lbl in c["labels"]}
    X, y, data_text = find_data(payload, lesson, params, changed | set(slots), _first_layer(lesson, params,
                                                                                            payload["scalars"]))
    run = ScriptRun(target=target, learning_rate=rate, lr_source=source, slots=slots,
                    labels={s.name: label for label, s in slots.items()}, params=params, gradients=grads,
                    learner_gradients=mine, update_lines=lines, X=X, y=y, data_text=data_text,
                    stopped=payload["why"], shape_changes=reshaped, printed=payload["printed"])
    run.path, run.scalars = path, payload["scalars"]
    if payload.get("injected"):
        run.data_text += (f"; your {', '.join(payload['injected'])} started at 1 and 0, where a gamma or beta used "
                          f"wrongly computes the right numbers: nnparity gave them the lesson's starting values")
    if optimizer:
        _read_optimizer(run, lesson, optimizer, groups, payload["scalars"])
    return run, payload


def _read_optimizer(run: ScriptRun, lesson, optimizer: str, groups: dict, scalars: dict) -> None:
    """Each parameter's gradient read from its optimizer state, and the formula its step matched (``Reading``)."""
    model, _ = reference_of(lesson, run.params, scalars)
    right = model.gradients(run.X, run.y)
    for label, slot in run.slots.items():
        param, states = groups[slot.name]
        delta = np.asarray(param["after"], dtype=np.float64) - param["before"]
        units = lesson.sizes[layer_of(slot.name)]
        if optimizer == "momentum":
            reading = read_momentum(delta, states, run.learning_rate, scalars, slot.to_learner(right[slot.name]))
        elif optimizer == "rmsprop":
            reading = read_rmsprop(delta, states, run.learning_rate, scalars)
        else:
            reading = read_adam(delta, states, run.learning_rate, scalars)
        run.learner_gradients[slot.name] = reading.gradient
        run.gradients[slot.name] = slot.from_learner(reading.gradient, units)
        run.readings[slot.name] = reading
        run.states[slot.name] = [s["label"] for s in states]


def _output(run: ScriptRun, lesson) -> None:
    """The script's output: the array the walk took for a_L (None when the script keeps none)."""
    step = next((s for s in run.steps if s.quantity == f"a{lesson.n_layers}"), None)
    if step is None or step.status == "not kept":
        return
    shape = (run.X.shape[0], lesson.sizes[-1])
    value = next(v for lbl, line, v in run.records if lbl == step.label and line == step.line and _views(v, shape))
    run.output = _views(value, shape)[0]


def _rename(findings, run: ScriptRun) -> None:
    """W1, b1, ... in every finding and cause -> the script's own names."""
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, run.labels)) + r")\b")
    for f in findings:
        if f.parameter in run.labels:
            f.parameter = run.labels[f.parameter]
        if f.cause and f.check == "gradient":
            f.cause = pattern.sub(lambda m: run.labels[m.group(1)], f.cause)


def _trace_gradients(findings, run: ScriptRun) -> None:
    """Each wrong gradient: the line that made it, and the line that applied it."""
    for f in findings:
        if f.check != "gradient" or f.passed or f.problem:
            continue
        slot = next(s for s in run.slots.values() if s.name == f.parameter)
        made = origin(run.records, slot.shape, run.learner_gradients[slot.name], run.learning_rate)
        if made is not None:
            run.origins[slot.name] = (made[0].replace("@", " in "), made[1])


def _dropout(run: ScriptRun, lesson, frameworks) -> tuple[tuple | None, float | None]:
    """((masks, rate) read from the script's loop, the script's scale) for a lesson with dropout, else (None, None)."""
    if not lesson.dropout:
        return None, None
    if frameworks != [REFERENCE]:
        raise LearnerError("with dropout, a script is compared with the NumPy reference only: the mask is read "
                           "back from your loop, and given to the reference (leave out --framework)")
    masks, rate, scale = dropout_masks(run.records, lesson, run.X.shape[0])
    run.data_text += f"; your dropout masks, scale {scale:g}" + (f" (p = {rate:g})" if scale > 1 else " (unscaled)")
    return (masks, rate), scale


def check_script(target: str, lesson_name: str, frameworks: list[str], lr: float | None = None,
                 time_limit: float = TIME_LIMIT, optimizer: str | None = None) -> CheckReport:
    """Run the script ``target`` to its first update and compare that step with every framework in ``frameworks``.

    Raises ``LearnerError`` when the script cannot be checked (exit status 2).
    """
    lesson = get_lesson(lesson_name)
    reason = unsupported(lesson, script=True)
    if reason:
        raise LearnerError(reason)
    run, payload = read_script(target, lesson, lr, time_limit, optimizer)
    run.records = payload["records"]
    dropout, scale = _dropout(run, lesson, frameworks)
    model, eps = reference_of(lesson, run.params, run.scalars, dropout)
    right = model.gradients(run.X, run.y)
    right.pop("X")
    if eps is not None:
        run.data_text += (f"; LayerNorm epsilon {eps:g} (the lesson's)" if lesson.layernorm
                          else f"; BatchNorm epsilon {eps:g}")
    run.steps = walk(model, run.records)
    _output(run, lesson)
    expected = {fw: (model.a[-1], right) if fw == REFERENCE else
                framework_values(fw, lesson, run.X, run.y, dict(model.params)) for fw in frameworks}
    findings = compare_run(run, expected, lesson)
    forward_diverges = bool(findings) and findings[0].check == "forward" and not findings[0].passed
    if forward_diverges:
        cause_of_forward(findings[0], run, lesson, run.params, model.z[-1])
    right = expected[frameworks[0]][1]
    with np.errstate(all="ignore"):
        cause_of_gradients(findings, run, right, lesson, run.params, run.X, run.y, forward_diverges)
    cause_of_layernorm(findings, run, lesson, run.params, run.X, run.y, run.scalars)
    _trace_gradients(findings, run)
    if optimizer:
        findings += step_findings(run, optimizer)
    if scale == 1.0:  # an unscaled mask explains the forward and every gradient after the first dropout
        for f in findings:
            if not f.passed:
                f.cause = ("your dropout keeps the units it keeps unscaled: inverted dropout (PyTorch's and Keras's) "
                           "multiplies them by 1 / (1 - p) at training time, mask = (rand > p) / (1 - p)")
    wrong = first_wrong(run.steps)
    for f in findings:
        if not f.passed and f.cause is None and wrong is not None:
            f.cause = (f"the first wrong intermediate is {wrong.quantity}: your `{wrong.label.replace('@', ' in ')}` "
                       f"({source_line(run.path, wrong.line)})")
    _rename(findings, run)
    tol = tolerance(DTYPE)
    return CheckReport(target, lesson, list(frameworks), run, findings, tol.atol, tol.rtol)
