"""Measure how the framework-vs-reference error grows with the number of training steps K.

    python tools/measure_trajectory.py [--lesson NAME]... [--optimizer NAME]... [--steps 1,10,100]

For every lesson x optimizer (the lesson's own and every spec of
``optimizer_specs.py``) x framework x dtype, it trains K steps in the framework
and in the reference (under that framework's convention), exactly as the
``trajectory`` check does, and prints the greatest absolute difference of the
weights after each K, then the worst case per (dtype, K). The trajectory
tolerances in ``compare.py`` were set from this table.
"""

from __future__ import annotations

import argparse

import numpy as np

from conformance.cases import (
    DTYPES,
    case_inputs,
    lesson_optimizer,
    masks_by_step,
    optimizer_of,
    reference_model,
    training_batches,
)
from conformance.lessons import LESSONS, canonical_params, get_lesson, lesson_data
from conformance.optimizer_specs import OPTIMIZER_SPECS
from frameworks import available_frameworks, convention_of, get_twin


def trajectory_errors(lesson, framework: str, dtype: str, optimizer: str | None, steps) -> dict[int, float]:
    """{K: greatest |framework - reference| over every weight after K steps}."""
    name, hyper = optimizer_of(lesson, optimizer)
    batches = training_batches(lesson, max(steps))
    params, X, y = case_inputs(lesson, dtype)
    masks = masks_by_step(lesson)
    convention = convention_of(framework)  # keras-jax and keras-torch follow Keras's formulas
    expected = reference_model(lesson, params, convention=convention).train(
        X, y, lesson_optimizer(lesson, name, hyper, framework), batches, record=steps, dropout_masks=masks)
    twin = get_twin(framework, lesson, dtype)
    twin.set_params(canonical_params(lesson))
    X, y = lesson_data(lesson)
    actual = twin.train(X, y, name, hyper, batches, record=steps, dropout_masks=masks)
    return {k: max(float(np.max(np.abs(actual[k][p] - expected[k][p]))) for p in expected[k]) for k in steps}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lesson", action="append", help="a lesson (repeatable; default: all)")
    parser.add_argument("--optimizer", action="append",
                        help="a spec name, or 'lesson' for the lesson's own (repeatable; default: all)")
    parser.add_argument("--steps", default="1,10,100", help="the K to report, comma-separated (default 1,10,100)")
    args = parser.parse_args(argv)
    steps = tuple(int(k) for k in args.steps.split(","))
    lessons = args.lesson or list(LESSONS)
    optimizers = [None if o == "lesson" else o for o in (args.optimizer or ["lesson", *OPTIMIZER_SPECS])]
    worst: dict[tuple[str, int], tuple[float, str]] = {}
    print("lesson, optimizer, framework, dtype: " + ", ".join(f"max err at K={k}" for k in steps))
    for lesson_name in lessons:
        lesson = get_lesson(lesson_name)
        for optimizer in optimizers:
            for framework in available_frameworks():
                for dtype in DTYPES:
                    errors = trajectory_errors(lesson, framework, dtype, optimizer, steps)
                    label = f"{lesson_name}, {optimizer or 'lesson'}, {framework}, {dtype}"
                    print(f"{label}: " + ", ".join(f"{errors[k]:.2e}" for k in steps), flush=True)
                    for k in steps:
                        if errors[k] > worst.get((dtype, k), (-1.0, ""))[0]:
                            worst[(dtype, k)] = (errors[k], label)
    print("\nworst per dtype and K:")
    for (dtype, k), (err, label) in sorted(worst.items()):
        print(f"  {dtype} K={k}: {err:.2e} ({label})")


if __name__ == "__main__":
    main()
