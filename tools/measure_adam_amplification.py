"""Step by step, a float32 Adam run against the float64 reference: the numbers of the probe
``conformance/known/adam_amplification.py`` at one entry.

    python tools/measure_adam_amplification.py --lesson NAME [--lessons FILE] [--framework torch]
                                               [--steps 10] [--optimizer NAME] [--entry W2:5,7]

For each step t it prints, at the entry (default: the one furthest from the reference after the last
step): |framework - reference|, the bound Z_t, the reference's |g_t|, the float32 rounding bound B_t of
the framework's gradient, the framework's measured gradient error e_t, Adam's amplification S_t / D_t,
and |framework - replay| (the float64 reference given the framework's measured gradient errors). Then
whether every entry stayed within its bound at every step. The numbers in docs/optimizers.md
("Float32 Adam on a gradient that cancels") were printed by it.
"""

from __future__ import annotations

import argparse

import numpy as np

from conformance.cases import Case, CaseInputs
from conformance.known.adam_amplification import applies, measure
from conformance.lesson_files import catalog_with
from conformance.lessons import get_lesson


def _entry(text: str | None, bound, steps: int) -> tuple[str, tuple]:
    """("W2", (5, 7)) from "W2:5,7"; without one, the entry furthest apart after the last step."""
    if text:
        name, _, index = text.partition(":")
        return name, tuple(int(i) for i in index.split(",")) if index else ()
    name = max(bound.apart[steps], key=lambda n: np.max(bound.apart[steps][n]))
    return name, tuple(int(i) for i in np.unravel_index(np.argmax(bound.apart[steps][name]),
                                                         bound.apart[steps][name].shape))


def table(lesson_name: str, framework: str, steps: int, optimizer: str | None, entry: str | None) -> None:
    lesson = get_lesson(lesson_name)
    inputs, case = CaseInputs.build(lesson, "float32"), Case(lesson_name, framework, "float32", optimizer)
    if not applies(inputs, case):
        raise SystemExit(f"{case.id}: the probe covers float32 Adam and AdamW without weight decay or clipping, "
                         "on lessons without BatchNorm or Dropout")
    bound, path, replayed = measure(inputs, case, inputs.batches(steps))
    name, where = _entry(entry, bound, steps)
    print(f"{case.id}, {name}[{', '.join(map(str, where))}]")
    print(f"{'step':>4}  {'|f - r|':>9}  {'bound Z':>9}  {'|g|':>9}  {'B':>9}  {'|e|':>9}  {'S/D':>9}  {'|f - replay|':>12}")
    for t in range(1, steps + 1):
        cells = [bound.apart[t], bound.bound[t], bound.gradient[t], bound.rounding[t]]
        values = [float(c[name][where]) for c in cells] + [abs(float(bound.error[t][name][where])),
                                                           float(bound.amplification[t][name][where])]
        to_replay = abs(float(replayed[t][name][where]) - float(path[t][name][where]))
        print(f"{t:>4}  " + "  ".join(f"{v:9.2e}" for v in values) + f"  {to_replay:12.2e}")
    closest = max(float(np.max(bound.apart[t][n] / bound.bound[t][n])) for t in bound.bound for n in bound.bound[t])
    print(f"every entry within its bound at every step: {bound.within()} (greatest |f - r| / Z: {closest:.2e})")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lesson", required=True)
    parser.add_argument("--lessons", action="append", default=[], help="a lesson file (docs/lesson-files.md)")
    parser.add_argument("--framework", default="torch")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--optimizer", default=None, help="a named setting of `nnparity optimizers`")
    parser.add_argument("--entry", default=None, help="NAME:I,J (default: the entry furthest apart at the end)")
    args = parser.parse_args(argv)
    with catalog_with(args.lessons):
        table(args.lesson, args.framework, args.steps, args.optimizer, args.entry)


if __name__ == "__main__":
    main()
