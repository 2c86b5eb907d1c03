"""Time ``nnparity check`` from the command to its exit, on a lesson-sized class and a lesson-sized script.

    python tools/time_check.py [--rounds N] [--framework NAME]

Each round runs, one after the other, ``python -c "import numpy"`` (the floor: an interpreter that
loads NumPy, as every check must) and ``nnparity check`` on a class of the bug zoo and on the spiral
script (``examples/learners/``), each as a fresh process (``python -m nnparity``), wall time by
``time.perf_counter`` around ``subprocess.run``. On a machine that other work slows, the ratio to
the floor of the same round says more than the seconds. A first, untimed run of each fills the lesson data
cache (``nnparity/learner/data.py``), as a learner's first check does. Prints each round and the
medians. A check whose exit status is not the one expected (0: both examples are correct) stops the
measurement: a failing check is not a time. Issue #20's target: under 1.5 s, median of 5.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

CASES = {
    "class": ["examples/learners/correct_inplace.py:NeuralNetwork", "--lesson", "circles"],
    "script": ["examples/learners/spiral_script.py", "--lesson", "spiral"],
}


def timed(args: list[str], command=("-m", "nnparity", "check")) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *command, *args],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started, done.returncode


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--framework", action="append", default=[])
    args = parser.parse_args(argv)
    extra = [a for fw in args.framework for a in ("--framework", fw)]
    for argv_ in CASES.values():
        timed(argv_ + extra)  # the first check of a lesson fills the data cache
    times = {"numpy": [], **{name: [] for name in CASES}}
    for i in range(1, args.rounds + 1):
        times["numpy"].append(timed([], ("-c", "import numpy"))[0])
        for name, case in CASES.items():
            seconds, rc = timed(case + extra)
            if rc != 0:
                print(f"round {i}: nnparity check ({name}) exited {rc}", file=sys.stderr)
                return 1
            times[name].append(seconds)
        print(f"round {i}: " + ", ".join(f"{n} {t[-1]:.2f} s" for n, t in times.items()))
    print("median: " + ", ".join(f"{n} {statistics.median(t):.2f} s" for n, t in times.items()))
    ratios = {n: statistics.median(a / b for a, b in zip(t, times["numpy"])) for n, t in times.items() if n != "numpy"}
    print("median ratio to the floor: " + ", ".join(f"{n} {r:.2f}x" for n, r in ratios.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
