"""The probe of the known difference adaptive-step-on-a-zero-gradient (conformance/known/zero_gradients.py), without
any framework: what it accepts and, above all, what it refuses."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.cases import Case, CaseInputs, case_inputs, reference_model
from conformance.compare import Comparison, ItemReport
from conformance.known.zero_gradients import STEP_BOUND, ZERO_GRADIENT, explain
from conformance.lessons import get_lesson

LESSON = get_lesson("spiral-batchnorm")  # 2-16-16-1, a BatchNorm after each hidden Dense, biases on
LR = 1e-3  # the adam, rmsprop, nadam, adamax and amsgrad specs' learning rate (conformance/optimizer_specs.py)


def _failed(name: str, max_abs: float) -> ItemReport:
    return ItemReport(name=name, shape=(16,), n_total=16, n_mismatched=1, max_abs_err=max_abs, max_abs_index=(0,),
                      max_rel_err=1.0, max_rel_index=(0,), worst_ratio=2.0)


def _passed(name: str) -> ItemReport:
    return ItemReport(name=name, shape=(16,), n_total=16, n_mismatched=0, max_abs_err=1e-16, max_abs_index=(0,),
                      max_rel_err=1e-16, max_rel_index=(0,), worst_ratio=1e-4)


def _comparison(*items) -> Comparison:
    return Comparison("step", 1e-12, 1e-12, list(items))


def test_the_bias_before_a_batchnorm_has_a_zero_gradient_to_rounding():
    """The fact behind the difference: dL/db_l = 0 exactly when a BatchNorm follows layer l."""
    params, X, y = case_inputs(LESSON, "float64")
    grads = reference_model(LESSON, params, "torch").gradients(X, y)
    for l in (1, 2):
        assert np.max(np.abs(grads[f"b{l}"])) <= ZERO_GRADIENT * np.max(np.abs(grads[f"W{l}"]))
    assert np.max(np.abs(grads["b3"])) > 1e-3 * np.max(np.abs(grads["W3"]))  # the output layer's bias is not


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "rmsprop", "nadam", "adamax", "amsgrad"])
def test_a_drift_of_the_pre_batchnorm_biases_and_their_running_means_is_explained(optimizer):
    case = Case(LESSON.name, "torch", "float64", optimizer)
    comparison = _comparison(_passed("W1@10"), _failed("b1@10", 1e-11), _failed("moving_mean2@100", 2e-11))
    evidence = explain(CaseInputs.build(LESSON, case.dtype), case, comparison)
    assert evidence is not None and evidence["optimizer"] == optimizer
    assert set(evidence["failed items, difference per step in learning rates"]) == {"b1@10", "moving_mean2@100"}
    assert all(r <= ZERO_GRADIENT for r in evidence["reference |dL/db_l| / |dL/dW_l|"].values())


@pytest.mark.parametrize(
    "items,optimizer,why",
    [
        ((_failed("W1", 1e-11),), "adam", "a weight failed: BatchNorm keeps the bias's drift from every weight"),
        ((_failed("b1", 1e-11), _failed("gamma1", 1e-11)), "adam", "gamma failed too"),
        ((_failed("b3", 1e-11),), "adam", "the output layer's bias has a real gradient"),
        ((_failed("moving_variance1", 1e-11),), "adam", "the running variance does not carry the bias"),
        ((_failed("b1", 1.01 * STEP_BOUND * LR),), "adam", "more than Adam can move in one step"),
        ((_failed("b1@10", 1.01 * STEP_BOUND * LR * 10),), "adam", "more than Adam can move in ten steps"),
        ((_failed("b1", 1e-11),), None, "the lesson's own optimizer is SGD: lr * noise is below any tolerance"),
        ((_failed("b1", 1e-11),), "momentum", "momentum does not divide by the gradient's size"),
        ((_failed("b1", 1e-11),), "adadelta", "Adadelta's step is its gradient times sqrt(d + eps) / sqrt(s + eps)"),
        ((_passed("b1"),), "adam", "nothing failed: nothing to explain"),
    ],
)
def test_anything_else_is_not_explained(items, optimizer, why):
    assert explain(CaseInputs.build(LESSON, "float64"), Case(LESSON.name, "torch", "float64", optimizer), _comparison(*items)) is None, why


def test_a_lesson_without_batchnorm_is_not_explained():
    spiral = get_lesson("spiral")
    assert explain(CaseInputs.build(spiral, "float64"), Case("spiral", "torch", "float64", "adam"), _comparison(_failed("b1", 1e-11))) is None
