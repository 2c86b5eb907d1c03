"""Numerical edges, with every framework compared to the reference through the same checks.

Each edge is a lesson whose weights and data are written in its declaration
(``fixed_params``, ``dataset="given"``), chosen so that every library rounds
alike: logits of +-1000 make probabilities of exactly 0 and 1 in float32 and
float64, 0.5 * 1.0 - 0.5 is exactly 0. Where frameworks disagree on purpose
(a loss at a saturated output), the reference reproduces each framework's own
convention (``conformance/cases.py``), and ``test_saturated_bce_conventions_differ``
pins the three answers down.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from conformance.lessons import LESSONS, lesson_data
from frameworks import get_twin

from ..cases import Case, case_inputs, reference_model
from ..checks import actual, expected, run_check
from ..compare import assert_agree
from ..known import KNOWN_DIFFERENCES, known_difference
from ..tolerances import tolerance
from .edges import EDGE_CHECKS, EDGES, NONFINITE, NONFINITE_X
from .strategies import random_batch_of


def run_edge(framework, dtypes, lesson, checks=EDGE_CHECKS):
    """Every check of ``lesson`` in every dtype: fail on a real difference, xfail on a known one."""
    results = [run_check(check, Case(lesson.name, framework, dtype), lesson=lesson)
               for dtype in dtypes for check in checks]
    failed = [r for r in results if r.status == "failed"]
    if failed:
        pytest.fail("\n".join(f"{r.check} {r.case.id}:\n{r.comparison.message()}" for r in failed), pytrace=False)
    known = sorted({r.known for r in results if r.known})
    if known:
        pytest.xfail("; ".join(f"known difference {k}: {KNOWN_DIFFERENCES[k].explanation}" for k in known))


@pytest.mark.parametrize("name", EDGES)
def test_edge(framework, dtypes, name):
    run_edge(framework, dtypes, EDGES[name])


# Measured: JAX differentiates relu as where(z > 0, g, 0), so a unit whose pre-activation is
# NaN passes gradient 0 back, where torch, TensorFlow and the reference pass NaN (NaN > 0 is
# False, and torch's threshold_backward and the reference's da * (z > 0) keep the NaN).
RELU_GRADIENT_OF_NAN_IS_ZERO = {"keras-jax"}


@pytest.mark.parametrize("name", NONFINITE)
def test_nan_and_inf_propagate_alike(framework, dtypes, name):
    lesson = NONFINITE[name]
    with np.errstate(invalid="ignore"):  # inf * 0 in the reference's matmul: NaN, as in the frameworks
        if framework in RELU_GRADIENT_OF_NAN_IS_ZERO and "relu" in lesson.activations:
            run_edge(framework, dtypes, lesson, checks=("forward",))
            for dtype in dtypes:
                assert_relu_gradient_of_nan_is_zero(lesson, framework, dtype)
            return
        run_edge(framework, dtypes, lesson, checks=("forward", "gradients"))


def assert_relu_gradient_of_nan_is_zero(lesson, framework, dtype):
    """Gradients equal the reference's wherever the reference's are numbers; NaN or 0 where it has NaN."""
    got = actual("gradients", lesson, framework, dtype)
    want = expected("gradients", lesson, dtype, framework)
    tol = tolerance(dtype if known_difference(framework, dtype) is None else "float32")
    nan = {k: np.isnan(v) for k, v in want.items()}
    assert_agree({k: np.where(nan[k], 0.0, v) for k, v in got.items()},
                 {k: np.where(nan[k], 0.0, v) for k, v in want.items()},
                 atol=tol.atol, rtol=tol.rtol, what=f"finite gradients of {lesson.name}-{framework}-{dtype}")
    for k in want:
        there = got[k][nan[k]]
        assert np.all(np.isnan(there) | (there == 0)), f"{k}: where the reference has NaN, {framework} has {there}"
    blocked = sum(int(np.sum(nan[k] & (got[k] == 0))) for k in want)
    assert blocked > 0, "the NaN reached every gradient: JAX's relu no longer blocks it (update this test)"


# Frameworks whose BCE on probabilities is torch's kernel, which refuses p outside [0, 1]
TORCH_BCE_KERNEL = {"torch", "keras-torch"}


def test_nan_into_bce_is_an_error_in_torch_and_propagates_elsewhere(framework, dtypes):
    """torch's BCE kernel refuses a NaN probability (a clear error); Keras on TensorFlow and JAX
    propagates it, as the reference does."""
    lesson = dataclasses.replace(NONFINITE["nan-inf-tanh-sigmoid-mse"], name="nan-sigmoid-bce", loss="bce",
                                 dataset_args=(("X", NONFINITE_X), ("y", ((1.0, 0.0),) * 4)))
    if framework in TORCH_BCE_KERNEL:
        twin = get_twin(framework, lesson, dtypes[0])
        twin.set_params(case_inputs(lesson, dtypes[0])[0])
        with pytest.raises(RuntimeError, match="between 0 and 1"):
            twin.loss(*lesson_data(lesson))
        return
    with np.errstate(invalid="ignore"):
        run_edge(framework, dtypes, lesson, checks=("forward", "loss", "gradients"))


@pytest.mark.parametrize("name", ["sensor", "tanh-4-5-4-1", "xor-mse"])
def test_one_sample_batches(framework, dtypes, name):
    run_edge(framework, dtypes, random_batch_of(LESSONS[name], 1))


@pytest.mark.parametrize("name", ["sensor", "xor-mse"])
def test_empty_batch_forward_agrees(framework, dtypes, name):
    """0 samples in, 0 samples out, in every layer."""
    run_edge(framework, dtypes, random_batch_of(LESSONS[name], 0), checks=("forward",))


def test_empty_batch_summed_loss_agrees(framework, dtypes):
    """half_sse sums over the batch: 0 for 0 samples, zero gradients, a step that changes nothing."""
    run_edge(framework, dtypes, random_batch_of(LESSONS["xor-mse"], 0))


def test_empty_batch_mean_loss_is_refused_by_the_reference(framework, dtypes):
    """A mean over 0 samples is undefined. The reference says so; no framework gives a number.

    Measured: torch gives nan (and zero gradients); Keras on TensorFlow an empty array (and
    zero gradients); Keras on JAX and torch an empty array, which their autodiff refuses.
    """
    lesson = random_batch_of(LESSONS["sensor"], 0)
    for dtype in dtypes:
        params, X, y = case_inputs(lesson, dtype)
        for what in ("loss_value", "gradients"):
            with pytest.raises(ValueError, match=r"the batch is empty .* undefined for 0 samples"):
                getattr(reference_model(lesson, params), what)(X, y)
        twin = get_twin(framework, lesson, dtype)
        twin.set_params(params)
        loss = np.asarray(twin.loss(X, y), dtype=np.float64)
        assert loss.size == 0 or np.isnan(loss).all(), f"{framework} gave {loss!r} for an empty batch"


def test_saturated_bce_conventions_differ(framework):
    """The same saturated batch, three answers: what loss_conventions.py says each framework computes."""
    lesson = EDGES["sigmoid-bce-at-1000"]
    twin = get_twin(framework, lesson, "float64")
    twin.set_params(case_inputs(lesson, "float64")[0])
    loss = float(twin.loss(*lesson_data(lesson)))
    # two right (loss 0) and two wrong samples; a wrong one costs:
    per_wrong = {
        "torch": 100.0,  # -log(0) clamped at -100 (nn.BCELoss)
        "keras": 1000.0,  # |logit| of 1000.5 and 999.5, from the logits the sigmoid attached
        "keras-jax": -np.log(1e-7),  # p clipped to 1 - 1e-7: 16.118
        "keras-torch": -np.log(1e-7),
    }[framework]
    rtol = 1e-12 if framework in ("torch", "keras") else 1e-6  # keras-jax/torch: float32 mean (known.py)
    assert loss == pytest.approx(2 * per_wrong / 4, rel=rtol, abs=1e-6)
