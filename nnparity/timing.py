"""How ``nnparity bench`` takes the time: interleaved rounds of timed blocks, and ratios per round.

Each step function is warmed up first (the first ``tf.function`` call traces; the first
torch step allocates). Then, in each of ``rounds`` rounds, every implementation times one
block of ``k`` steps (``k`` chosen from the warm-up so a block lasts about ``block_seconds``),
in an order rotated from round to round, after a pause of ``pause_seconds``. A ratio is the
median of the per-round ratios, so a slow moment of the machine hits both sides of it alike.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import time
from dataclasses import dataclass
from typing import Callable

from threadpoolctl import threadpool_info, threadpool_limits

from conformance.threads import blas_threads
from frameworks import versions

from .workloads import IMPLS, workloads

BASELINE = "torch-1thread"  # ratios are to this: one thread is stable on a busy 2-core machine
RATIO_KEY = "ratio_to_" + BASELINE.replace("-", "_")


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
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    info = {"cpu": cpu, "logical_cpus": os.cpu_count(), "platform": platform.platform(), "versions": versions()}
    info["numpy_blas"] = [{k: d.get(k) for k in ("internal_api", "version", "num_threads")}
                          for d in threadpool_info() if d.get("user_api") == "blas"]
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
    before = blas_threads()  # what this process ran on before the first block set it (one: threads.py)
    try:
        yield
    finally:
        threadpool_limits(limits=before, user_api="blas")


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
