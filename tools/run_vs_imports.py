"""Time ``nnparity run`` against a process that only imports numpy, torch and keras (issue #9's target).

    python tools/run_vs_imports.py [--rounds N] [-- RUN ARGUMENTS...]

Each round times, one after the other, ``python -c "import numpy, torch, keras"`` and
``nnparity run`` (with the arguments after ``--``, default none), each as a fresh
process, wall time by ``time.perf_counter`` around ``subprocess.run``. Interleaving puts a
slow moment of the machine (a busy neighbour, a file cache being evicted) on both sides of
a round's ratio. Prints each round, then the medians and the median of the per-round ratios.
A run that does not exit 0 is reported and stops the measurement: a failing run is not a time.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def timed(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return time.perf_counter() - started, done


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("run_args", nargs="*", help="arguments for nnparity run (after --)")
    args = parser.parse_args(argv)
    rows = []
    for i in range(1, args.rounds + 1):
        imports, _ = timed([sys.executable, "-c", "import numpy, torch, keras"])
        run, done = timed([sys.executable, "-m", "nnparity", "run", *args.run_args])
        summary = next((line for line in reversed(done.stdout.splitlines()) if " passed, " in line), "")
        if done.returncode != 0:
            print(f"round {i}: nnparity run exited {done.returncode}: {summary}", file=sys.stderr)
            return 1
        rows.append((imports, run))
        print(f"round {i}: imports {imports:.2f} s, run {run:.2f} s, ratio {run / imports:.2f}  ({summary})",
              flush=True)
    imports, runs = [r[0] for r in rows], [r[1] for r in rows]
    print(f"median imports {statistics.median(imports):.2f} s, median run {statistics.median(runs):.2f} s, "
          f"ratio of the medians {statistics.median(runs) / statistics.median(imports):.2f}, "
          f"median of the per-round ratios {statistics.median(r / i for i, r in rows):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
