"""Where two float32 training runs part: a ReLU unit on either side of its kink.

A ReLU network trained with Adam (or any optimizer that divides by a running
root mean square: NAdam, AMSGrad, Adamax, RMSprop, Adadelta) is chaotic at the
scale of float32 rounding.
Two runs whose weights differ by rounding (a few 1e-6) agree, step after step,
until the step where one ReLU pre-activation ``z`` lies within that difference of
0: one run puts it at +6e-7, the other at -1e-7. From then on one run passes
gradient through that unit on that sample and the other does not; Adam divides
each gradient by its running root mean square, so the new gradient becomes a
step-sized move, and the two runs part by a sizeable fraction of a step
(``lr``) per step after that.

This happens without any framework: two float64 reference runs of
``spiral-3-layer``, the second started from weights moved by 3e-6 (below the
float32 tolerance), part at a kink and end 8.8e-2 apart after 100 steps
(``tests/engine/test_kink_crossing.py``). Under Adadelta (step ``sqrt(d + eps) /
sqrt(s + eps) * g``, as scale-free as Adam's) ``deep-relu``'s float32 runs, torch and
Keras, cross at step 52 (layer 1, unit 3, z = -4.5e-8 in the reference) and end
9.6e-3 apart; two float64 runs started 3e-7 apart cross at the same step and unit
and end 9.6e-3 and 7.1e-3 apart (``tests/engine/test_kink_crossing_adadelta.py``).
The probe reads no optimizer: its conditions below are about the runs. A framework's float32 run is such a second
run. So a float32 ``trajectory`` check that fails *after* such a crossing, and
only after it, is the known difference ``float32-relu-kink-crossing``
(``known.py``), with the crossing in the result's ``info``:

1. ``first_kink_crossing`` walks both runs step by step (the weights before each
   step, forwarded in float64 on that step's batch) and finds the first step where
   a ReLU pre-activation has opposite signs on the two runs. The framework's own
   float32 arithmetic can also decide the side: a pre-activation that the reference
   puts within float32 rounding of 0 (the float32 forward tolerance) can come out of
   the framework's float32 forward on the other side although its weights, forwarded
   in float64, do not. Such a *tie* counts as the crossing only at the step where the
   runs part (the first whose weights fail the ``float32 trajectory@100`` row: measured
   on an AVX-only AMD EPYC, Keras on TensorFlow, spiral-3-layer, step 52: z = 6.4e-7,
   the weights 4.5e-6 apart before it and 2.5e-4 after it);
2. ``explain_trajectory`` accepts it as the explanation only if, up to that step,
   the runs agree as rounding predicts (the weights before the crossing meet the
   ``float32 trajectory@100`` row, every snapshot taken before it passed its own
   row) and every pre-activation that crossed differs between the runs by no more
   than the float32 forward tolerance, that is: the two runs were the same run up
   to rounding, and rounding decided the side of the kink. A wrong optimizer
   formula or a wrong gradient moves the weights apart before any crossing and
   still fails.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from reference import MLP

from ..cases import TRAJECTORY_STEPS, lesson_optimizer, optimizer_of
from ..compare import compare
from ..tolerances import tolerance

# activations with a kink at z = 0, where the side taken decides the gradient (relu'(z) = 0 or 1)
KINKED = ("relu", "leaky_relu")
# how many times the runs' distance must grow across one step for that step to be where they part (parting_step)
PARTING_JUMP = 10.0


@dataclass(frozen=True)
class KinkCrossing:
    """The first pre-activation the two runs put on opposite sides of 0 (the widest apart, at that step)."""

    step: int  # the training step (1 = the first) whose forward pass crossed
    stage: str  # "z2": the pre-activation of layer 2
    sample: int  # row of that step's batch
    unit: int
    z_reference: float
    z_framework: float
    n_crossed: int  # how many (sample, unit) pairs crossed at that step
    weights_apart: float  # greatest |framework - reference| over the weights before that step
    tie: bool = False  # no sign differs in float64: the reference's z lies within rounding of 0 where the runs part

    def to_json(self) -> dict:
        return asdict(self)


def _pre_activations(lesson, params: dict, X: np.ndarray) -> dict[str, np.ndarray]:
    """Every layer's z, in float64, for ``params`` on the batch ``X`` (the loss does not matter here)."""
    model = MLP({k: np.asarray(v, dtype=np.float64) for k, v in params.items()}, lesson.activations, "mse")
    model.forward(np.asarray(X, dtype=np.float64))
    return {f"z{l}": z for l, z in enumerate(model.z, start=1)}


def first_kink_crossing(lesson, X, batches, reference_path: dict, framework_path: dict,
                        parting_step: int | None = None, tie: float = 0.0) -> KinkCrossing | None:
    """The first step at which the two runs put a ReLU pre-activation on opposite sides of 0, or None.

    ``reference_path[k]`` and ``framework_path[k]`` are the weights after k steps,
    for k = 0 (the start) to ``len(batches)``; step k runs on ``X[batches[k - 1]]``.
    Both are forwarded in float64, so the crossing is a property of the weights,
    not of the framework's arithmetic. At ``parting_step`` (the step after which the
    runs first part), a reference pre-activation within ``tie`` of 0 counts as crossed
    too, if no sign differs there: the framework's rounding decided its side.
    """
    kinked = [l for l, act in enumerate(lesson.activations, start=1) if act in KINKED]
    if not kinked:
        return None
    X = np.asarray(X, dtype=np.float64)
    for k, idx in enumerate(batches, start=1):
        ref = _pre_activations(lesson, reference_path[k - 1], X[idx])
        fw = _pre_activations(lesson, framework_path[k - 1], X[idx])
        crossed = _pairs(ref, fw, kinked, lambda a, b: (a > 0) != (b > 0))
        is_tie = not crossed and k == parting_step
        if is_tie:
            crossed = _pairs(ref, fw, kinked, lambda a, b: np.abs(a) <= tie)
        if crossed:
            _, stage, sample, unit, z_ref, z_fw = max(crossed)
            return KinkCrossing(k, stage, sample, unit, z_ref, z_fw, len(crossed),
                                _apart(reference_path, framework_path, k - 1), tie=is_tie)
    return None


def _apart(reference_path: dict, framework_path: dict, k: int) -> float:
    """The greatest |framework - reference| over the weights after k steps."""
    return max(float(np.max(np.abs(np.asarray(framework_path[k][p], dtype=np.float64)
                                   - np.asarray(reference_path[k][p], dtype=np.float64))))
               for p in reference_path[k])


def _pairs(ref: dict, fw: dict, kinked: list[int], selected) -> list[tuple]:
    """(|z_fw - z_ref|, stage, sample, unit, z_ref, z_fw) of every kinked pre-activation ``selected(a, b)`` picks."""
    found = []
    for l in kinked:
        a, b = ref[f"z{l}"], fw[f"z{l}"]
        for sample, unit in np.argwhere(selected(a, b)):
            found.append((abs(b[sample, unit] - a[sample, unit]), f"z{l}", int(sample), int(unit),
                          float(a[sample, unit]), float(b[sample, unit])))
    return found


def parting_step(reference_path: dict, framework_path: dict, dtype: str) -> int | None:
    """The step at which the runs part: the one, up to the first step whose weights fail the ``<dtype>
    trajectory@100`` row, across which the runs' distance grows the most, if it grows at least
    ``PARTING_JUMP`` times there; else None. A crossing makes a step-sized jump (Adam: a fraction of ``lr``)
    out of a rounding-sized distance (2.5e-4 from 4.5e-6 in the measured case); a wrong formula moves the
    runs apart step after step, without one jump."""
    row = tolerance(dtype, "trajectory@100")
    steps = sorted(k for k in reference_path if k > 0)
    first_failing = next((k for k in steps if not compare(framework_path[k], reference_path[k],
                                                          atol=row.atol, rtol=row.rtol).passed), None)
    if first_failing is None:
        return None
    distances = {k: _apart(reference_path, framework_path, k) for k in range(0, first_failing + 1)}
    # from step 2: both runs start from the same weights, so the first step's growth is from 0
    growth = {k: distances[k] / max(distances[k - 1], np.finfo(np.float64).tiny) for k in range(2, first_failing + 1)}
    if not growth:
        return None
    step = max(growth, key=growth.get)
    return step if growth[step] >= PARTING_JUMP else None


def crossing_within_rounding(crossing: KinkCrossing, lesson, X, batches, reference_path: dict,
                             framework_path: dict, dtype: str) -> bool:
    """Did rounding, and nothing else, decide the crossing?

    The weights before it meet the ``<dtype> trajectory@100`` row (rounding
    compounded over up to 100 steps, without a crossing: measured at most 4.8e-5,
    ``tolerances.py``), and every pre-activation that crossed at that step differs
    between the two runs by no more than the ``<dtype>`` forward tolerance.
    """
    before = crossing.step - 1
    row = tolerance(dtype, "trajectory@100")
    if not compare(framework_path[before], reference_path[before], atol=row.atol, rtol=row.rtol).passed:
        return False
    forward = tolerance(dtype)
    idx = batches[crossing.step - 1]
    ref = _pre_activations(lesson, reference_path[before], np.asarray(X, dtype=np.float64)[idx])
    fw = _pre_activations(lesson, framework_path[before], np.asarray(X, dtype=np.float64)[idx])
    for stage in ref:
        a, b = ref[stage], fw[stage]
        crossed = (a > 0) != (b > 0)
        if np.any(np.abs(b - a)[crossed] > (forward.atol + forward.rtol * np.abs(a))[crossed]):
            return False
    return True


def explain_trajectory(inputs, case, comparison) -> dict | None:
    """Why a float32 ``trajectory`` check failed, if a kink crossing explains it: the crossing, else None.

    Retrains both sides from the case's ``inputs`` recording every step (only when the check
    has failed). Explains only a plain MLP (no dropout or BatchNorm) and only snapshots taken
    at or after the crossing: an earlier snapshot that failed is not explained.
    """
    lesson = inputs.lesson
    if lesson.regularized or not any(act in KINKED for act in lesson.activations):
        return None
    steps = max(TRAJECTORY_STEPS)
    batches = inputs.batches(steps)
    every = tuple(range(1, steps + 1))
    name, hyper = optimizer_of(lesson, case.optimizer)
    optimizer = lesson_optimizer(lesson, name, hyper, case.framework)
    reference_path = inputs.reference_model(case.framework).train(inputs.ref_X, inputs.ref_y, optimizer, batches,
                                                                  record=every)
    reference_path[0] = inputs.ref_params
    framework_path = inputs.twin(case.framework).train(inputs.X, inputs.y, name, hyper, batches, record=every)
    framework_path[0] = inputs.ref_params
    failed = [int(item.name.rsplit("@", 1)[1]) for item in comparison.failures()]
    return explain_paths(lesson, inputs.ref_X, batches, reference_path, framework_path, case.dtype, failed)


def explain_paths(lesson, X, batches, reference_path: dict, framework_path: dict, dtype: str,
                  failed_snapshots=()) -> dict | None:
    """The crossing (as JSON) if a kink crossing within rounding explains every failed snapshot, else None.

    ``failed_snapshots``: the step counts whose snapshot failed the check; each must be
    at or after the crossing's step.
    """
    crossing = first_kink_crossing(lesson, X, batches, reference_path, framework_path,
                                   parting_step(reference_path, framework_path, dtype), tie=tolerance(dtype).atol)
    if crossing is None or any(k < crossing.step for k in failed_snapshots):
        return None
    if not crossing_within_rounding(crossing, lesson, X, batches, reference_path, framework_path, dtype):
        return None
    return crossing.to_json()

