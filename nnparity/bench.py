"""``nnparity bench``: how long one training step takes in the reference, PyTorch and Keras.

One step is the whole of a full-batch training step: forward, loss, backward and
the update by the lesson's optimizer (SGD for every lesson today). Each implementation steps the same network from the same
weights on the same data, in the same dtype:

=======================  =====================================================================
impl                     one step
=======================  =====================================================================
reference                ``MLP.step(X, y, optimizer)`` (nnparity's NumPy reference), NumPy's
                         BLAS on one thread (``threadpoolctl``), as every nnparity process runs
                         it (``conformance/threads.py``): the partner of ``torch-1thread``
reference-default-blas   the same with NumPy's BLAS on its default number of threads (what a
                         learner's own script gets)
torch-1thread            ``zero_grad(); loss_fn(model(x), y).backward(); opt.step()``,
                         ``torch.set_num_threads(1)`` (what the conformance twin uses)
torch                    the same with torch's default number of threads
keras-function           a ``tf.function`` of ``GradientTape`` + ``optimizer.apply_gradients``
keras-train-on-batch     ``model.compile(SGD, loss)`` then ``model.train_on_batch(X, y)``
=======================  =====================================================================

Workloads: every lesson of the catalog (its network, loss and dataset, full
batch) and ``mnist-size``: 784-256-128-10, ReLU, ReLU, softmax with categorical
cross-entropy, a batch of 128 rows of random data.

How the time is taken:

- Everything runs in one process. Each step function is warmed up first (the
  first ``tf.function`` call traces; the first torch step allocates).
- Then come ``rounds`` rounds. In each round every implementation times one
  block of ``k`` steps (``k`` chosen from the warm-up so a block lasts about
  ``block_seconds``), in an order rotated from round to round, after a pause
  of ``pause_seconds`` (BLAS worker threads spin for a while after a call and
  would slow whoever runs next).
- A result is the median, min and max over the rounds of (block time / k).
  The ratio to ``torch-1thread`` is the median of the per-round ratios, so a
  slow moment of the machine hits both sides of a ratio alike.
- The learning rate is the lesson's times ``LR_SCALE`` (1e-3), so the weights stay
  near their starting values over thousands of steps; the arithmetic per step
  is the same.
- NumPy's BLAS thread count is set before each reference block (one, or for
  ``reference-default-blas`` its default as this process found it, as
  configured by ``OPENBLAS_NUM_THREADS``), and torch's before each of its
  blocks. Why both reference rows: OpenBLAS hands a product to its second
  thread above a fixed size (m * n * k over 262,144), and on a 2-CPU machine
  that thread costs more than it gives at the lessons' sizes and collapses
  when anything else runs (``conformance/threads.py`` has the numbers).
"""

from __future__ import annotations

import argparse
import statistics

from rich import box, markup
from rich.console import Console
from rich.table import Table

from conformance.threads import REFERENCE_BLAS_THREADS, default_blas_threads
from frameworks import unavailable_reason

from .common import EXIT_OK, UsageError, output_file, write_json, write_output
from .common import choices as _choices
from .timing import BASELINE, RATIO_KEY, Timing, machine, ratios, run_bench
from .workloads import (
    IMPL_NAMES,
    IMPLS,
    LR_SCALE,
    MNIST_SIZE,
    torch_default_threads,
    workloads,
)

DTYPES = ("float64", "float32")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lesson", action="append", metavar="NAME",
                   help=f"a lesson, or {MNIST_SIZE} (repeatable; default: every lesson and {MNIST_SIZE})")
    p.add_argument("--dtype", action="append", metavar="DTYPE", help="float64 or float32 (repeatable; default: both)")
    p.add_argument("--impl", action="append", metavar="NAME",
                   help=f"one of {', '.join(IMPL_NAMES)} (repeatable; default: every one whose framework is installed)")
    p.add_argument("--rounds", type=int, default=7, help="timed rounds per implementation (default 7)")
    p.add_argument("--block-seconds", type=float, default=0.05,
                   help="about how long one timed block of steps lasts (default 0.05)")
    p.add_argument("--pause-seconds", type=float, default=0.05,
                   help="sleep before every timed block, so BLAS threads go idle (default 0.05)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    p.add_argument("--markdown", metavar="FILE", help="also write a Markdown table (for docs/performance.md) to FILE")
    p.set_defaults(func=cmd_bench)


def cmd_bench(args) -> int:
    names = _choices(args.lesson, list(workloads()), "--lesson")
    dtypes = _choices(args.dtype, list(DTYPES), "--dtype")
    impls = _choices(args.impl, list(IMPL_NAMES), "--impl")
    if args.rounds < 1:
        raise UsageError(f"--rounds: expected a positive integer. Received: {args.rounds}")
    if args.block_seconds <= 0 or args.pause_seconds < 0:
        raise UsageError(f"--block-seconds must be > 0 and --pause-seconds >= 0. Received: "
                         f"{args.block_seconds}, {args.pause_seconds}")
    output_file(args.json, "--json")  # now, not after minutes of timing
    output_file(args.markdown, "--markdown")
    console = Console()
    if not console.is_terminal:  # a pipe or a file: rich would wrap the table at 80 columns
        console.width = max(console.width, 110)
    missing = {impl: unavailable_reason(IMPLS[impl][0]) for impl in impls
               if IMPLS[impl][0] and unavailable_reason(IMPLS[impl][0])}
    if args.impl and missing:
        raise UsageError("; ".join(f"{impl}: {reason}" for impl, reason in missing.items()))
    for impl, reason in missing.items():
        console.print(f"[yellow]skipped {impl}[/]: {markup.escape(reason)}")  # "nnparity[torch]" is text
    impls = [impl for impl in impls if impl not in missing]

    with console.status("bench") as status:
        timings = run_bench(names, dtypes, impls, args.rounds, args.block_seconds, args.pause_seconds,
                            progress=lambda msg: status.update(f"bench {msg}"))
    _report(args, console, timings, impls)
    return EXIT_OK


def _report(args, console: Console, timings: list[Timing], impls: list[str]) -> None:
    """The terminal table, and the JSON and Markdown files asked for."""
    ratio_rows = ratios(timings)
    ratio_of = {(r["workload"], r["dtype"], r["impl"]): r for r in ratio_rows}
    info = machine()
    table = Table(title=f"nnparity bench: microseconds per training step ({info['cpu']}, "
                        f"{info['logical_cpus']} CPUs; {args.rounds} rounds)", box=box.SIMPLE_HEAD)
    for col in ("workload", "dtype", "impl", "median", "min", "max", f"x {BASELINE}", "middle half"):
        table.add_column(col, justify="left" if col in ("workload", "dtype", "impl") else "right")
    for t in timings:
        j = t.to_json()
        r = ratio_of.get((t.workload, t.dtype, t.impl))
        table.add_row(t.workload, t.dtype, t.impl, _us(j["median_s"]), _us(j["min_s"]), _us(j["max_s"]),
                      "-" if r is None else f"{r[RATIO_KEY]:.2f}",
                      "-" if r is None else f"{r['ratio_q1']:.2f}-{r['ratio_q3']:.2f}")
    console.print(table)
    settings = {"rounds": args.rounds, "block_seconds": args.block_seconds, "pause_seconds": args.pause_seconds,
                "lr_scale": LR_SCALE}
    if "torch" in impls:
        settings["torch_default_threads"] = torch_default_threads()
    if any(impl.startswith("reference") for impl in impls):
        settings["numpy_blas_default_threads"] = default_blas_threads()
        settings["reference_blas_threads"] = REFERENCE_BLAS_THREADS
    if args.json:
        payload = {"results": [t.to_json() for t in timings], "ratios": ratio_rows, "machine": info,
                   "settings": settings}
        write_json(args.json, payload)
    if args.markdown:
        write_output(args.markdown, "--markdown", markdown_table(timings, info, settings))


def markdown_table(timings: list[Timing], info: dict, settings: dict) -> str:
    """One row per (workload, dtype), one column per impl: "median us (ratio to torch-1thread)"."""
    ratio_of = {(r["workload"], r["dtype"], r["impl"]): r[RATIO_KEY] for r in ratios(timings)}
    impls = list(dict.fromkeys(t.impl for t in timings))
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for t in timings:
        ratio = ratio_of.get((t.workload, t.dtype, t.impl))
        cell = _us(statistics.median(t.per_step)) + ("" if ratio is None else f" ({ratio:.2f}x)")
        rows.setdefault((t.workload, t.dtype), {})[t.impl] = cell
    v = info["versions"]
    lines = [
        f"Microseconds per training step, median of {settings['rounds']} interleaved rounds; in brackets the "
        f"median per-round ratio to {BASELINE}.",
        f"Machine: {info['cpu']}, {info['logical_cpus']} logical CPUs, {info['platform']}; "
        + ", ".join(f"{k} {v[k]}" for k in ("python", "numpy", "torch", "tensorflow-cpu", "tensorflow", "keras")
                    if k in v) + ".",
        "",
        "| workload | dtype | " + " | ".join(impls) + " |",
        "|---|---|" + "---:|" * len(impls),
    ]
    for (workload, dtype), cells in rows.items():
        lines.append(f"| {workload} | {dtype} | " + " | ".join(cells.get(i, "-") for i in impls) + " |")
    return "\n".join(lines) + "\n"


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f}"
