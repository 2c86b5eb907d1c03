"""``nnparity bench``: its JSON, its options, and that every implementation times the same step.

Timings themselves are not asserted (the machine is shared); what can fail is
the shape of the output and whether each implementation really does one SGD
step of the same network from the same weights on the same data.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from conformance.compare import assert_agree
from conformance.threads import REFERENCE_BLAS_THREADS, blas_threads, default_blas_threads
from conformance.tolerances import tolerance
from frameworks import FRAMEWORKS, unavailable_reason
from nnparity.cli import main
from nnparity.timing import (
    Timing,
    blas_threads_restored,
    measure,
    ratios,
    run_bench,
    torch_threads_restored,
)
from nnparity.workloads import IMPL_NAMES, IMPLS, MNIST_SIZE, workloads

RESULT_FIELDS = {"workload", "dtype", "impl", "median_s", "min_s", "max_s", "n"}
QUICK = ["--rounds", "2", "--block-seconds", "0.001", "--pause-seconds", "0"]


def test_workloads_are_the_catalog_and_mnist_size():
    from conformance.lessons import LESSONS

    w = workloads()
    assert list(w) == [*LESSONS, MNIST_SIZE]
    mnist = w[MNIST_SIZE]
    assert mnist.sizes == (784, 256, 128, 10) and mnist.activations == ("relu", "relu", "softmax")
    X, y = mnist.data()
    assert X.shape == (128, 784) and y.shape == (128, 10) and np.all(y.sum(axis=1) == 1)
    assert {k: v.shape for k, v in mnist.params().items()} == {
        "W1": (784, 256), "b1": (256,), "W2": (256, 128), "b2": (128,), "W3": (128, 10), "b3": (10,)}


def test_impl_registry_matches_the_documented_names():
    assert tuple(IMPLS) == IMPL_NAMES
    assert {fw for fw, _ in IMPLS.values()} <= set(FRAMEWORKS) | {None}


def test_measure_interleaves_and_counts_rounds():
    calls = []

    def runner(name):
        return (lambda: calls.append(name)), (lambda: None)

    out = measure({"a": runner("a"), "b": runner("b")}, rounds=3, block_seconds=1e-9, pause_seconds=0,
                  warmup_seconds=0)
    assert set(out) == {"a", "b"}
    for per_step, k in out.values():
        assert len(per_step) == 3 and k == 1 and all(t >= 0 for t in per_step)
    assert calls[:8] == ["a"] * 4 + ["b"] * 4  # warm-up first: the first call, then at least 3 more
    assert calls[8:] == ["a", "b", "b", "a", "a", "b"]  # one block of one step each, order rotated every round
    with pytest.raises(ValueError, match="rounds must be at least 1"):
        measure({"a": runner("a")}, rounds=0, block_seconds=1e-3, pause_seconds=0)


def test_ratios_are_medians_of_per_round_ratios():
    base = Timing("w", "float64", "torch-1thread", [1.0, 2.0, 4.0], 1)
    ref = Timing("w", "float64", "reference", [0.5, 0.5, 4.0], 1)  # per round: 0.5, 0.25, 1.0
    r = {x["impl"]: x for x in ratios([base, ref])}
    assert {impl: x["ratio_to_torch_1thread"] for impl, x in r.items()} == {"torch-1thread": 1.0, "reference": 0.5}
    # the middle half of the per-round ratios 0.25, 0.5, 1.0 (inclusive quartiles: halfway to the median)
    assert (r["reference"]["ratio_q1"], r["reference"]["ratio_q3"]) == (0.375, 0.75)
    assert (r["torch-1thread"]["ratio_q1"], r["torch-1thread"]["ratio_q3"]) == (1.0, 1.0)
    one_round = ratios([Timing("w", "float64", "torch-1thread", [2.0], 1),
                        Timing("w", "float64", "reference", [1.0], 1)])[1]
    assert (one_round["ratio_q1"], one_round["ratio_to_torch_1thread"], one_round["ratio_q3"]) == (0.5, 0.5, 0.5)


def test_bench_json_has_exactly_the_documented_fields(tmp_path, capsys):
    out, md = tmp_path / "bench.json", tmp_path / "bench.md"
    rc = main(["bench", "--lesson", "xor-mse", "--lesson", MNIST_SIZE, "--dtype", "float32", "--impl", "reference",
               *QUICK, "--json", str(out), "--markdown", str(md)])
    assert rc == 0
    table = md.read_text().splitlines()
    assert "| workload | dtype | reference |" in table
    assert [line.split(" | ")[:2] for line in table if line.startswith("| xor") or line.startswith("| mnist")] == [
        ["| xor-mse", "float32"], ["| mnist-size", "float32"]]
    payload = json.loads(out.read_text())
    results = payload["results"]
    assert [(r["workload"], r["dtype"], r["impl"]) for r in results] == [
        ("xor-mse", "float32", "reference"), (MNIST_SIZE, "float32", "reference")]
    for r in results:
        assert set(r) == RESULT_FIELDS
        assert r["n"] == 2
        assert 0 < r["min_s"] <= r["median_s"] <= r["max_s"]
    assert payload["ratios"] == []  # no torch-1thread to divide by
    assert payload["machine"]["logical_cpus"] >= 1 and "numpy" in payload["machine"]["versions"]
    assert "xor-mse" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv,message",
    [
        (["bench", "--lesson", "nope"], "--lesson: unknown 'nope'"),
        (["bench", "--impl", "jax"], "--impl: unknown 'jax'"),
        (["bench", "--dtype", "float16"], "--dtype: unknown 'float16'"),
        (["bench", "--rounds", "0"], "--rounds: expected a positive integer"),
    ],
)
def test_bad_bench_arguments_exit_2(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def _losses(impl, workload, dtype, steps=2):
    with torch_threads_restored([impl]):  # the tests after this one keep the twins' one thread
        step, before_block = IMPLS[impl][1](workload, dtype)
        before_block()
        return {f"loss after {i} steps": np.float64(float(step())) for i in range(steps)}


@pytest.mark.parametrize("framework", ["torch"])  # the id names torch: it runs on torch's xdist worker
def test_the_bench_leaves_torch_s_thread_count_as_it_found_it(framework):
    """The torch impl sets torch's default thread count for its blocks; the twins after it must keep theirs."""
    reason = unavailable_reason(framework)
    if reason:
        pytest.skip(reason)
    import torch

    from frameworks.torch_twin import DEFAULT_THREADS

    before = torch.get_num_threads()
    if DEFAULT_THREADS == before:
        pytest.skip(f"torch's default thread count is the twins' ({before}): nothing could leak")
    run_bench(["xor-mse"], ["float64"], ["torch"], rounds=1, block_seconds=0.001, pause_seconds=0.0)
    assert torch.get_num_threads() == before


# ids read <workload>-<framework>-<dtype>, like a conformance case, so that pytest-xdist
# runs each on its framework's worker (conformance/tests/scheduling.py).
@pytest.mark.parametrize("dtype", ["float64"])
@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
@pytest.mark.parametrize("workload", ["sensor"])  # softmax + categorical CE, one-hot targets, like mnist-size
def test_every_impl_steps_like_the_reference(workload, framework, dtype):
    """Same loss before the first step and after one SGD step: the same network, weights, data and update."""
    reason = unavailable_reason(framework)
    if reason:
        pytest.skip(reason)
    w = workloads()[workload]
    expected = _losses("reference", w, dtype)
    impls = [impl for impl, (fw, _) in IMPLS.items() if fw == framework]
    for impl in impls:
        tol = tolerance(dtype)
        assert_agree(_losses(impl, w, dtype), expected, atol=tol.atol, rtol=tol.rtol, what=f"{impl} on {workload}")


def test_the_reference_rows_step_alike_on_one_blas_thread_and_on_numpy_s_default():
    """``reference`` on one BLAS thread, ``reference-default-blas`` on the count this process found
    (two on this project's 2-CPU machine): the same arithmetic, bit for bit (OpenBLAS splits a
    product by blocks of its output), and the process's own count put back afterwards."""
    w = workloads()["keras-4-64-32-1"]  # its 500x64 @ 64x32 is above OpenBLAS's threading threshold
    now = blas_threads()
    steps = {}
    with blas_threads_restored(["reference", "reference-default-blas"]):
        for impl, threads in (("reference", REFERENCE_BLAS_THREADS), ("reference-default-blas", default_blas_threads())):
            step, before_block = IMPLS[impl][1](w, "float64")
            before_block()
            assert blas_threads() == threads, impl
            steps[impl] = [float(step()) for _ in range(2)]
    assert blas_threads() == now
    assert steps["reference"] == steps["reference-default-blas"]
