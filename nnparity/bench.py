"""``nnparity bench``: how long one training step takes in the reference, PyTorch and Keras.

One step is the whole of a full-batch training step: forward, loss, backward and
the update by the lesson's optimizer (SGD for every lesson today). Each implementation steps the same network from the same
weights on the same data, in the same dtype:

=======================  =====================================================================
impl                     one step
=======================  =====================================================================
reference                ``MLP.step(X, y, optimizer)`` (nnparity's NumPy reference), NumPy's
                         BLAS with its default number of threads
reference-1thread        the same with NumPy's BLAS on one thread (``threadpoolctl``): the
                         like-for-like partner of ``torch-1thread``
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
- NumPy's BLAS thread count is set before each reference block (its default, as
  configured by ``OPENBLAS_NUM_THREADS``, or one for ``reference-1thread``), and
  torch's before each of its blocks. Why both reference rows: OpenBLAS hands a
  product to its second thread above a fixed size (m * n * k over 262,144), and
  on a 2-CPU machine that thread costs more than it gives at the lessons' sizes
  (keras-4-64-32-1's 500x64 @ 64x32 in float64: 590 us a step against 415 us
  on one thread, measured quiet), and collapses when anything else runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import time
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Callable

import numpy as np

from .common import EXIT_OK, UsageError, output_file, write_json, write_output
from .common import choices as _choices

# Timed steps use learning_rate * LR_SCALE: the same arithmetic, weights that stay put.
LR_SCALE = 1e-3

IMPL_NAMES = ("reference", "reference-1thread", "torch-1thread", "torch", "keras-function", "keras-train-on-batch")
BASELINE = "torch-1thread"  # ratios are to this: one thread is stable on a busy 2-core machine
RATIO_KEY = "ratio_to_" + BASELINE.replace("-", "_")
DTYPES = ("float64", "float32")
MNIST_SIZE = "mnist-size"


@dataclass(frozen=True)
class Workload:
    """A network and its batch: what one training step works on.

    ``network()`` is the ``Lesson`` it runs, so the twins' own builders and the
    checks' ``reference_model`` make the bench's models (with a lesson's
    regularizers; a dropout lesson keeps one fixed mask: the arithmetic of any step).
    """

    name: str
    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str
    optimizer: str = "sgd"
    hyper: tuple[tuple[str, float], ...] = (("learning_rate", 0.1),)
    use_bias: bool = True
    lesson: str | None = None  # the catalog lesson it comes from, if any

    def network(self):
        """The ``Lesson`` the twins and the reference are built from: the catalog lesson itself (with its
        dropout, BatchNorm or penalty), or, for ``mnist-size``, a plain MLP declared from these fields."""
        from conformance.lessons import Lesson, get_lesson

        if self.lesson is not None:
            return get_lesson(self.lesson)
        return Lesson(name=self.name, sizes=self.sizes, activations=self.activations, loss=self.loss,
                      init="he_normal", dataset="(random rows, Workload.data)", seed_text="a bench workload",
                      use_bias=self.use_bias, optimizer=self.optimizer, hyper=self.hyper)

    @property
    def timed_hyperparameters(self) -> dict[str, float]:
        """The optimizer's hyper-parameters, learning rate times ``LR_SCALE``."""
        hyper = dict(self.hyper)
        hyper["learning_rate"] *= LR_SCALE
        return hyper

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """(X, y) in float64: the lesson's dataset, or random data for ``mnist-size``."""
        if self.lesson is not None:
            from conformance.lessons import get_lesson, lesson_data

            return lesson_data(get_lesson(self.lesson))
        rng = np.random.default_rng(0)
        X = rng.standard_normal((128, self.sizes[0]))
        y = np.eye(self.sizes[-1])[rng.integers(0, self.sizes[-1], 128)]  # one-hot labels
        return X, y

    def params(self) -> dict[str, np.ndarray]:
        """The starting weights (float64, reference layout)."""
        if self.lesson is not None:
            from conformance.lessons import get_lesson, initial_params

            return initial_params(get_lesson(self.lesson))
        from reference import get_initializer

        rng = np.random.default_rng(0)
        he, params = get_initializer("he_normal"), {}
        for i, (fan_in, units) in enumerate(zip(self.sizes[:-1], self.sizes[1:]), start=1):
            params[f"W{i}"] = he((fan_in, units), rng)
            params[f"b{i}"] = np.zeros(units)
        return params


def workloads() -> dict[str, Workload]:
    """Every lesson of the catalog, then ``mnist-size``."""
    from conformance.lessons import LESSONS

    out = {
        name: Workload(name, lesson.sizes, lesson.activations, lesson.loss, lesson.optimizer, tuple(lesson.hyper),
                       lesson.use_bias, lesson=name)
        for name, lesson in LESSONS.items()
    }
    out[MNIST_SIZE] = Workload(MNIST_SIZE, (784, 256, 128, 10), ("relu", "relu", "softmax"), "cce")
    return out


# ---------------------------------------------------------------------------
# One step per implementation. Each builder returns (step, before_block):
# ``step()`` does one training step and returns its loss (before the update);
# ``before_block()`` runs, untimed, before every timed block.


def _nothing():
    pass


def reference_step(workload: Workload, dtype: str, blas_threads: int | None = None):
    """blas_threads=None: NumPy's BLAS with its default number of threads (``numpy_blas_threads``)."""
    from conformance.cases import reference_model, share_dropout_masks
    from reference import get_optimizer

    X, y = (a.astype(dtype) for a in workload.data())
    # torch's conventions where the two differ (BatchNorm's running variance, the optimizer's formula)
    model = reference_model(workload.network(), workload.params(), convention="torch", dtype=dtype)
    share_dropout_masks(model, workload.network(), len(X))  # one fixed mask: the arithmetic of any step
    optimizer = get_optimizer(workload.optimizer, convention="torch", **workload.timed_hyperparameters)
    blas = _numpy_blas()
    n = blas_threads or numpy_blas_threads()
    return partial(model.step, X, y, optimizer), partial(blas.limit, limits=n)


@lru_cache(maxsize=1)
def _numpy_blas():
    """threadpoolctl's handle on the BLAS libraries NumPy has loaded."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="blas")


@lru_cache(maxsize=1)
def numpy_blas_threads() -> int:
    """NumPy's BLAS thread count as this process found it (its first call comes before any limit)."""
    return max((lib["num_threads"] for lib in _numpy_blas().info()), default=1)


def _twin(framework: str, workload: Workload, dtype: str):
    """A new twin of the workload's network (not the suite's cached one), with its weights and dropout mask."""
    from conformance.cases import share_dropout_masks
    from frameworks import twin_class

    twin = twin_class(framework)(workload.network(), dtype)
    twin.set_params(workload.params())
    share_dropout_masks(twin, workload.network(), len(workload.data()[0]))
    return twin


def _torch_twin(workload: Workload, dtype: str):
    return _twin("torch", workload, dtype)


def torch_step(workload: Workload, dtype: str, threads: int | None):
    """threads=None: torch's default number of threads (``torch_default_threads``)."""
    import torch

    twin = _torch_twin(workload, dtype)
    X, y = workload.data()
    x, y = (torch.tensor(a, dtype=twin.torch_dtype) for a in (X, y))
    optimizer = twin.make_optimizer(workload.optimizer, workload.timed_hyperparameters)

    def step():
        optimizer.zero_grad(set_to_none=True)
        trace = {}
        twin.model(x, trace)  # trace: every stage by name; the logits losses use z_L
        last = len(workload.sizes) - 1
        loss = twin.loss_fn(trace[f"z{last}"], trace[f"a{last}"], y)
        loss.backward()
        optimizer.step()
        return loss.detach()

    n = threads or torch_default_threads()
    return step, partial(torch.set_num_threads, n)


def torch_default_threads() -> int:
    """torch's default intra-op thread count: the torch twin pins the process to one thread
    when it is imported, and notes the default it found first."""
    from frameworks.torch_twin import DEFAULT_THREADS

    return DEFAULT_THREADS


def _keras_twin(workload: Workload, dtype: str):
    return _twin("keras", workload, dtype)


def keras_function_step(workload: Workload, dtype: str):
    twin = _keras_twin(workload, dtype)  # first: the twin's module sets TensorFlow's environment before its import
    import tensorflow as tf

    X, y = workload.data()
    x, y = (tf.constant(a.astype(dtype)) for a in (X, y))
    optimizer = twin.make_optimizer(workload.optimizer, workload.timed_hyperparameters)
    variables = list(twin.model.trainable_variables)
    optimizer.build(variables)  # its variables exist before tracing

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = twin.loss_fn(y, twin.model(x, training=True))
        grads = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(grads, variables))
        return loss

    return partial(train_step, x, y), _nothing


def keras_train_on_batch_step(workload: Workload, dtype: str):
    from frameworks.keras_twin import keras_dtype

    twin = _keras_twin(workload, dtype)
    X, y = (a.astype(dtype) for a in workload.data())
    optimizer = twin.make_optimizer(workload.optimizer, workload.timed_hyperparameters)
    with keras_dtype(dtype):
        twin.model.compile(optimizer=optimizer, loss=twin.loss_fn)
    return partial(twin.model.train_on_batch, X, y), _nothing


# impl name -> (framework it needs or None, builder(workload, dtype))
IMPLS: dict[str, tuple[str | None, Callable]] = {
    "reference": (None, reference_step),
    "reference-1thread": (None, partial(reference_step, blas_threads=1)),
    "torch-1thread": ("torch", partial(torch_step, threads=1)),
    "torch": ("torch", partial(torch_step, threads=None)),
    "keras-function": ("keras", keras_function_step),
    "keras-train-on-batch": ("keras", keras_train_on_batch_step),
}


# ---------------------------------------------------------------------------
# Timing


@dataclass
class Timing:
    workload: str
    dtype: str
    impl: str
    per_step: list[float]  # seconds per step, one per round
    steps_per_block: int

    def to_json(self) -> dict:
        return {
            "workload": self.workload,
            "dtype": self.dtype,
            "impl": self.impl,
            "median_s": statistics.median(self.per_step),
            "min_s": min(self.per_step),
            "max_s": max(self.per_step),
            "n": len(self.per_step),
        }


def _time_block(step, k: int) -> float:
    start = time.perf_counter()
    for _ in range(k):
        step()
    return (time.perf_counter() - start) / k


def measure(runners: dict, rounds: int, block_seconds: float, pause_seconds: float,
            warmup_seconds: float = 0.2) -> dict[str, tuple[list[float], int]]:
    """Interleaved timing of ``runners`` ({name: (step, before_block)}): per-step seconds per round."""
    if rounds < 1:
        raise ValueError(f"bench: rounds must be at least 1. Received: rounds={rounds}")
    ks = {}
    for name, (step, before_block) in runners.items():
        before_block()
        step()  # the first call traces, allocates, builds
        start, calls = time.perf_counter(), 0
        while calls < 3 or time.perf_counter() - start < warmup_seconds:
            step()
            calls += 1
        per_step = (time.perf_counter() - start) / calls
        ks[name] = max(1, round(block_seconds / per_step))
    names = list(runners)
    out = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:  # rotated order
            step, before_block = runners[name]
            before_block()
            time.sleep(pause_seconds)
            out[name].append(_time_block(step, ks[name]))
    return {name: (out[name], ks[name]) for name in names}


def ratios(timings: list[Timing], baseline: str = BASELINE) -> list[dict]:
    """Median over rounds of (impl step / baseline step), per (workload, dtype, impl), with the
    quartiles of those per-round ratios (``ratio_q1``, ``ratio_q3``): the spread of one run, so a
    median near a target can be read as "on the line" rather than "met" or "missed"."""
    base = {(t.workload, t.dtype): t for t in timings if t.impl == baseline}
    out = []
    for t in timings:
        b = base.get((t.workload, t.dtype))
        if b is None:
            continue
        per_round = [x / y for x, y in zip(t.per_step, b.per_step)]
        q1, _, q3 = statistics.quantiles(per_round, n=4, method="inclusive") if len(per_round) > 1 else per_round * 3
        out.append({"workload": t.workload, "dtype": t.dtype, "impl": t.impl,
                    "ratio_to_" + baseline.replace("-", "_"): statistics.median(per_round),
                    "ratio_q1": q1, "ratio_q3": q3})
    return out


def machine() -> dict:
    """What the numbers were measured on."""
    from frameworks import versions

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    info = {"cpu": cpu, "logical_cpus": os.cpu_count(), "platform": platform.platform(), "versions": versions()}
    try:
        from threadpoolctl import threadpool_info

        info["numpy_blas"] = [{k: d.get(k) for k in ("internal_api", "version", "num_threads")}
                              for d in threadpool_info() if d.get("user_api") == "blas"]
    except ImportError:  # threadpoolctl comes with scikit-learn; without it the BLAS goes unreported
        pass
    return info


@contextlib.contextmanager
def torch_threads_restored(impls):
    """torch's thread count put back afterwards, when ``impls`` include a torch one.

    The torch impls set the count before each of their blocks; what runs next in the
    same process (the conformance twins, pinned to one thread) must not inherit it:
    float32 Adam on spiral-3-layer ends 3 test points elsewhere with two threads.
    """
    if not any(IMPLS[impl][0] == "torch" for impl in impls):
        yield
        return
    import torch

    import frameworks.torch_twin  # noqa: F401  (its import pins one thread: keep that, not torch's default)

    before = torch.get_num_threads()
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def blas_threads_restored(impls):
    """NumPy's BLAS thread count put back afterwards, when ``impls`` include a reference one
    (each sets the count before its blocks)."""
    if not any(impl.startswith("reference") for impl in impls):
        yield
        return
    before = numpy_blas_threads()  # noted before any block limits it
    try:
        yield
    finally:
        _numpy_blas().limit(limits=before)


def run_bench(workload_names, dtypes, impls, rounds=7, block_seconds=0.05, pause_seconds=0.05,
              progress: Callable[[str], None] = lambda msg: None) -> list[Timing]:
    """Time every impl on every (workload, dtype); impls whose framework is missing must be left out."""
    all_workloads = workloads()
    timings = []
    with torch_threads_restored(impls), blas_threads_restored(impls):
        for name in workload_names:
            workload = all_workloads[name]
            for dtype in dtypes:
                progress(f"{name} {dtype}")
                runners = {impl: IMPLS[impl][1](workload, dtype) for impl in impls}
                for impl, (per_step, k) in measure(runners, rounds, block_seconds, pause_seconds).items():
                    timings.append(Timing(name, dtype, impl, per_step, k))
    return timings


# ---------------------------------------------------------------------------
# The command


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


def cmd_bench(args) -> int:
    from rich import (  # markup.escape: a reason's "nnparity[torch]" is text, not a style tag
        box,
        markup,
    )
    from rich.console import Console
    from rich.table import Table

    from frameworks import unavailable_reason

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
        console.print(f"[yellow]skipped {impl}[/]: {markup.escape(reason)}")
    impls = [impl for impl in impls if impl not in missing]

    with console.status("bench") as status:
        timings = run_bench(names, dtypes, impls, args.rounds, args.block_seconds, args.pause_seconds,
                            progress=lambda msg: status.update(f"bench {msg}"))
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
    if "reference" in impls:
        settings["numpy_blas_default_threads"] = numpy_blas_threads()
    if args.json:
        payload = {"results": [t.to_json() for t in timings], "ratios": ratio_rows, "machine": info,
                   "settings": settings}
        write_json(args.json, payload)
    if args.markdown:
        write_output(args.markdown, "--markdown", markdown_table(timings, info, settings))
    return EXIT_OK


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
