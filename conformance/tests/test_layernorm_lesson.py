"""spiral-layernorm proves that LayerNorm's epsilon matters (docs/conventions-layers.md).

The lesson gives both frameworks the same epsilon (1e-5), and the conformance suite holds them to
the reference at 1e-12. Here each framework builds the lesson's network at its own *default*
epsilon, read from the framework itself (``nn.LayerNorm(units).eps``,
``LayerNormalization().epsilon``): each then computes the reference at that epsilon, not at the
other's, and the two networks part by the gap the reference predicts, measured 0.0248 on ln1 (a row
of z1 with standard deviation 0.22, where 1e-3 is 2% of the variance) at the checks' weights.
Trained to the end, the two epsilons leave the reference two test points apart.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from conformance.tests.support import needs
from frameworks import get_twin
from reference.layernorm import LayerNorm

from ..cases import reference_model
from ..checks.training import reference_run
from ..compare import assert_agree, compare
from ..lessons import canonical_params, get_lesson, lesson_data, lesson_test_data
from ..tolerances import tolerance

LESSON = get_lesson("spiral-layernorm")
OTHER = {"torch": "keras", "keras": "torch"}


def framework_default(framework: str) -> float:
    """The framework's own default epsilon, from a LayerNorm built without one."""
    if framework == "torch":
        import torch

        return torch.nn.LayerNorm(16).eps
    from frameworks.keras_twin import keras  # first: it sets the backend before Keras loads

    return keras.layers.LayerNormalization().epsilon


def reference_forward(epsilon: float) -> dict[str, np.ndarray]:
    """Every stage of the lesson's reference network at ``epsilon``, on its data, from the checks' weights."""
    lesson = replace(LESSON, layernorm_epsilon=epsilon)
    model = reference_model(lesson, canonical_params(lesson), convention="torch")
    model.forward(lesson_data(lesson)[0])
    return model.trace()


def framework_forward(framework: str, epsilon: float) -> dict[str, np.ndarray]:
    """Every stage of the lesson's network in ``framework`` (its twin) at ``epsilon``, from the same weights."""
    lesson = replace(LESSON, layernorm_epsilon=epsilon)
    twin = get_twin(framework, lesson, "float64")
    twin.set_params(canonical_params(lesson))
    return twin.forward(lesson_data(lesson)[0])


def test_the_lesson_gives_both_frameworks_torch_s_default():
    assert LESSON.layernorm and LESSON.layernorm_epsilon == LayerNorm.defaults["torch"] == 1e-5
    assert "1e-5" in LESSON.choices and "1e-3" in LESSON.choices


@pytest.mark.parametrize("framework", list(OTHER))
def test_at_its_default_epsilon_each_framework_computes_the_reference_at_that_epsilon(framework):
    needs(framework)
    default = framework_default(framework)
    assert default == LayerNorm.defaults[framework], f"{framework}'s default LayerNorm epsilon changed"
    tol = tolerance("float64", "forward", LESSON)
    actual = framework_forward(framework, default)
    own, other = reference_forward(default), reference_forward(LayerNorm.defaults[OTHER[framework]])
    assert_agree(actual, own, atol=tol.atol, rtol=tol.rtol, what=f"spiral-layernorm in {framework} at eps={default}")
    versus_other = compare(actual, other, atol=tol.atol, rtol=tol.rtol)
    assert not versus_other.passed, f"{framework} at its default epsilon now matches the other's"
    predicted = compare(own, other, atol=0.0, rtol=0.0)
    assert versus_other.max_abs_err == pytest.approx(predicted.max_abs_err, rel=1e-6)


def test_the_two_defaults_part_the_frameworks_by_the_documented_gap():
    """torch's network at 1e-5 against Keras's at 1e-3, both real: measured 0.0248 apart on ln1, the
    output a3 7.96e-4 apart."""
    needs("torch")
    needs("keras")
    torch_out = framework_forward("torch", framework_default("torch"))
    keras_out = framework_forward("keras", framework_default("keras"))
    apart = {name: np.max(np.abs(torch_out[name] - keras_out[name])) for name in torch_out}
    assert apart["z1"] <= 1e-12  # the same weights: they part at the LayerNorm
    assert apart["ln1"] == pytest.approx(0.0248, rel=0.01)
    assert apart["a3"] == pytest.approx(7.96e-4, rel=0.01)


def test_trained_at_the_two_defaults_the_lesson_ends_apart():
    """The reference trained at each default epsilon (2000 SGD steps): loss 0.58491 against 0.58411, 201
    against 203 correct test points out of 300. One epsilon for both frameworks is what makes the lesson's
    training check hold them to 1e-10."""
    y_test = lesson_test_data(LESSON)[1]
    runs = {fw: reference_run(replace(LESSON, layernorm_epsilon=LayerNorm.defaults[fw]), "float64", fw)
            for fw in OTHER}
    assert runs["torch"].losses[-1] == pytest.approx(0.58491, abs=1e-5)
    assert runs["keras"].losses[-1] == pytest.approx(0.58411, abs=1e-5)
    assert (runs["torch"].correct(y_test), runs["keras"].correct(y_test)) == (201, 203)
