"""The L2 penalty: Keras's ``kernel_regularizer=L2(l2)`` against the same term added to the torch loss.

``SPIRAL_L2`` is the spiral lesson with ``kernel_l2 = 2**-10`` (a factor float32 holds
exactly: Keras rounds the factor through float32 even in float64, see the last test).
It runs through the same checks as the catalog's lessons: the loss includes
the penalty, dL/dW includes 2 * l2 * W, and the SGD step follows.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.lessons import LESSONS, SPIRAL_L2, canonical_params, lesson_data
from conformance.tests.support import check_case, needs, skip_reason
from frameworks import FRAMEWORKS
from frameworks.layout import from_torch, to_torch

from ..cases import DTYPES, Case
from ..checks import CHECKS, actual, expected
from ..compare import compare

L2 = SPIRAL_L2.kernel_l2


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
@pytest.mark.parametrize("check", CHECKS)
def test_l2_lesson_agrees(check, framework, dtype):
    """Every check, judged as the catalog's lessons are (``check_case``: a check the framework does not
    run is skipped, a known difference within its bound is an expected failure naming it)."""
    needs(framework)
    check_case(check, Case(SPIRAL_L2.name, framework, dtype), lesson=SPIRAL_L2)


def test_the_penalty_is_in_the_frameworks_loss():
    """The penalty (about 0.02 here) is far above the tolerance: a twin that forgot it would fail above."""
    params = canonical_params(SPIRAL_L2)
    penalty = L2 * sum(np.sum(params[k] ** 2) for k in ("W1", "W2"))
    assert penalty > 1e-3
    for framework in sorted(FRAMEWORKS):
        if skip_reason(framework):
            continue
        with_l2 = actual("loss", SPIRAL_L2, framework, "float64")["loss"]
        without = actual("loss", LESSONS["spiral"], framework, "float64")["loss"]
        assert float(with_l2 - without) == pytest.approx(penalty, rel=1e-12), framework


def _torch_sgd_step(weight_decay_groups):
    """One torch SGD(lr) step on the spiral lesson (no penalty in the loss) with ``weight_decay`` per group."""
    import torch
    import torch.nn.functional as F

    spec = LESSONS["spiral"]
    X, y = lesson_data(spec)
    params = canonical_params(spec)
    model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1)).double()
    named = {"W1": model[0].weight, "b1": model[0].bias, "W2": model[2].weight, "b2": model[2].bias}
    with torch.no_grad():
        for name, p in named.items():
            p.copy_(torch.tensor(to_torch(name, params[name])))
    groups = [{"params": [named[n] for n in names], "weight_decay": wd} for names, wd in weight_decay_groups]
    opt = torch.optim.SGD(groups, lr=spec.hyperparameters["learning_rate"])
    loss = F.binary_cross_entropy_with_logits(model(torch.tensor(X)), torch.tensor(y))
    loss.backward()
    opt.step()
    return {name: from_torch(name, p.detach().numpy()) for name, p in named.items()}


def test_torch_weight_decay_is_the_l2_step_on_kernels_only():
    """SGD(weight_decay=2 * l2) on the weights alone takes the L2 lesson's step; on every parameter it
    decays the biases too, which Keras's kernel_regularizer never does."""
    needs("torch")
    reference = expected("step", SPIRAL_L2, "float64", convention="torch")
    kernels_only = _torch_sgd_step([(("W1", "W2"), 2 * L2), (("b1", "b2"), 0.0)])
    result = compare(kernels_only, reference, atol=1e-12, rtol=1e-12, what="SGD(weight_decay) on the weights")
    assert result.passed, result.message()
    everything = _torch_sgd_step([(("W1", "b1", "W2", "b2"), 2 * L2)])
    result = compare(everything, reference, atol=1e-12, rtol=1e-12, what="SGD(weight_decay) on every parameter")
    assert {item.name for item in result.failures()} == {"b1", "b2"}, result.message()


def test_keras_l2_factor_is_rounded_through_float32():
    """keras.regularizers.L2 computes ``ops.cast(l2, x.dtype) * sum(x**2)``: in float64 on TensorFlow the
    cast goes through float32 (docs/conventions.md#float32-casts), so L2(1e-3) weighs 1.0000000474974513e-3.
    That is a relative error of 4.7e-8 in the penalty, far outside the float64 tolerance; 2**-10 is exact."""
    needs("keras")
    from frameworks.keras_twin import keras

    W = np.random.default_rng(0).normal(size=(16, 16))
    squares = np.sum(W**2)
    got = {l2: float(keras.regularizers.L2(l2)(keras.ops.convert_to_tensor(W))) for l2 in (1e-3, L2)}
    assert got[1e-3] == pytest.approx(float(np.float32(1e-3)) * squares, rel=1e-15)
    assert abs(got[1e-3] / (1e-3 * squares) - 1) > 4e-8
    assert got[L2] == pytest.approx(L2 * squares, rel=1e-15)
