"""Keras on three backends: one per process, each named, its differences measured.

The facts about each backend are measured in a child process (Keras reads
KERAS_BACKEND once per process) by ``tests/engine/keras_backend_facts.py``. If a Keras
release changes one of them, the test says which, and ``conformance/known/__init__.py`` or
``conformance/cases.py`` must follow.
"""

from __future__ import annotations

import json
import os
import pathlib
import pickle
import subprocess
import sys
from functools import lru_cache

import numpy as np
import pytest

from conformance.cases import Case
from conformance.checks import CheckResult
from conformance.compare import compare
from frameworks import missing_reason
from frameworks.backends import KERAS_BACKENDS, backend_reason, process_backend
from nnparity.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[2]


@lru_cache(maxsize=None)
def backend_facts(backend: str, *flags: str) -> dict:
    """The JSON that keras_backend_facts.py prints with KERAS_BACKEND=backend (once per process)."""
    env = dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, str(ROOT / "tests" / "engine" / "keras_backend_facts.py"), *flags], env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def needs(framework):
    reason = missing_reason(framework)
    return pytest.mark.skipif(reason is not None, reason=str(reason))


def test_a_framework_on_another_backend_is_skipped_with_the_reason():
    here = process_backend()
    for framework, backend in KERAS_BACKENDS.items():
        reason = backend_reason(framework)
        if backend == here:
            assert reason is None
        else:
            assert f"KERAS_BACKEND={backend}" in reason and framework in reason and here in reason
    assert backend_reason("torch") is None


def test_worker_results_survive_the_trip_between_processes():
    result = compare({"W1": np.array([[1.0, np.inf]])}, {"W1": np.array([[1.5, 2.0]])}, atol=1e-12, rtol=1e-12,
                     what="gradients of x")
    original = CheckResult(Case("spiral", "keras-jax", "float64"), "gradients", result, known="some-difference")
    trip = pickle.loads(pickle.dumps(original))  # how a worker's results come back (conformance/matrix.py)
    assert trip == original
    assert trip.comparison.message() == original.comparison.message()


@pytest.mark.parametrize("framework", ["keras", "keras-jax", "keras-torch"])
def test_keras_float64_on_each_backend(framework):
    """TensorFlow keeps float64; JAX and torch compute some float64 ops in float32 (known.py)."""
    if missing_reason(framework):
        pytest.skip(missing_reason(framework))
    facts = backend_facts(KERAS_BACKENDS[framework])
    assert facts["backend"] == KERAS_BACKENDS[framework]
    if framework == "keras":
        assert facts["result_type_float64"] == "float64"
        assert set(facts["dtypes"].values()) == {"float64"}
        assert facts["mean_of_thirds_error"] < 1e-15
        return
    # keras-float64-computed-in-float32: the cause, and what it does to the ops a Dense model uses
    assert facts["result_type_float64"] == "float32"
    assert facts["mean_of_thirds_error"] > 1e-9  # (1/3 + 1/3 + 1/3) / 3 summed in float32
    demoted = {"keras-jax": {"tanh"}, "keras-torch": {"matmul"}}[framework]
    assert {op for op, dt in facts["dtypes"].items() if dt == "float32"} == demoted


@pytest.mark.parametrize("framework", ["keras", "keras-jax", "keras-torch"])
def test_keras_bce_on_a_saturated_sigmoid_on_each_backend(framework):
    """Only TensorFlow uses the logits a Keras sigmoid attaches; JAX and torch clip p (loss_conventions.py)."""
    if missing_reason(framework):
        pytest.skip(missing_reason(framework))
    bce = backend_facts(KERAS_BACKENDS[framework])["bce_of_sigmoid_40"]
    if framework == "keras":
        assert bce == pytest.approx(40.0, rel=1e-12)
    else:
        assert bce == pytest.approx(-np.log(1e-7), rel=1e-6)


@needs("keras-jax")
def test_jax_without_x64_refuses_to_build_a_float64_twin():
    error = backend_facts("jax", "--no-x64")["error"]
    assert error and "float64" in error and "jax_enable_x64" in error


@needs("keras-jax")
@needs("keras-torch")
def test_run_starts_a_worker_per_backend_and_merges_their_results(tmp_path, capsys):
    out = tmp_path / "r.json"
    frameworks = ["keras-jax", "keras-torch", "torch"]
    argv = ["run", "--lesson", "neuron", "--dtype", "float32", "--dtype", "float64", "--check", "forward",
            "--json", str(out)]
    for fw in frameworks:
        argv += ["--framework", fw]
    assert main(argv) == 0, capsys.readouterr().out  # a known difference alone does not fail the run
    printed = capsys.readouterr().out
    results = json.loads(out.read_text())["results"]
    # in the order asked, whoever ran them
    assert [(r["framework"], r["dtype"]) for r in results] == [(fw, dt) for fw in frameworks
                                                             for dt in ("float32", "float64")]
    for r in results:
        if (r["framework"], r["dtype"]) == ("keras-torch", "float64"):  # every Dense multiplies in float32
            assert r["passed"] is False and r["known"] == "keras-float64-computed-in-float32"
            assert 1e-12 < r["max_abs_err"] < 5e-6
        else:
            assert r["passed"] is True and r["known"] is None, r
    assert "known difference keras-float64-computed-in-float32" in printed
    assert "5 passed, 0 failed, 0 skipped, 1 known differences" in printed


@needs("torch")
@needs("keras")
def test_run_in_parallel_gives_the_results_of_a_serial_run(tmp_path):
    """--jobs 2 runs the cases in two worker processes: the same results, in the same order, as --jobs 1 here.

    Run as a command (a process of its own), so this test's worker does not import TensorFlow.
    """
    runs = {}
    for jobs in (1, 2):
        out = tmp_path / f"jobs{jobs}.json"
        argv = ["run", "--lesson", "xor-mse", "--framework", "torch", "--framework", "keras", "--check", "forward",
                "--check", "gradients", "--check", "step", "--jobs", str(jobs), "--json", str(out)]
        done = subprocess.run([sys.executable, "-m", "nnparity", *argv], capture_output=True, text=True,
                              timeout=600, env=dict(os.environ, PYTHONPATH=str(ROOT)))
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        runs[jobs] = json.loads(out.read_text())["results"]
    assert [(r["framework"], r["dtype"], r["check"]) for r in runs[1]] == [
        (fw, dt, check) for fw in ("torch", "keras") for dt in ("float64", "float32")
        for check in ("forward", "gradients", "step")]
    assert runs[1] == runs[2]


def test_run_refuses_zero_jobs(capsys):
    assert main(["run", "--jobs", "0"]) == 2
    assert "--jobs must be at least 1" in capsys.readouterr().err
