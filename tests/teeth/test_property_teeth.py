"""The scaled tolerances of the property-based tests still have teeth.

Inputs of size 1000 widen each element's atol by the size of its terms
(conformance/magnitudes.py). That must not hide a real mistake: the classic
from-scratch bugs of tests/teeth/test_teeth.py still fail at every input scale.
"""

from __future__ import annotations

import pytest
from test_teeth import MUTATIONS

from conformance.cases import Case
from conformance.checks import run_check
from conformance.lessons import LESSONS
from conformance.tests.strategies import random_batch_of
from frameworks import available_frameworks

FRAMEWORK = next(iter(available_frameworks()), None)
pytestmark = pytest.mark.skipif(FRAMEWORK is None, reason="no framework installed to compare against")

# mutations whose lessons a random batch still exercises, and the lesson to use
CAUGHT = {"mse-missing-1/m": "keras-4-64-32-1", "bias-gradient-mean": "spiral", "sgd-update-adds": "spiral",
          "relu-derivative-one": "xor-relu", "forward-without-bias": "tanh-4-5-4-1", "softmax-wrong-axis": "sensor",
          "sigmoid-derivative-of-z": "xor-mse"}


@pytest.mark.parametrize("scale", [1.0, 1000.0])
@pytest.mark.parametrize("mutation", sorted(CAUGHT))
def test_scaled_checks_catch_the_classic_bugs(mutation, scale, monkeypatch):
    cls, attr, replacement, _, check, _ = MUTATIONS[mutation]
    lesson = random_batch_of(LESSONS[CAUGHT[mutation]], 16, scale=scale, seed=1)
    cases = [Case(lesson.name, FRAMEWORK, dtype) for dtype in ("float64", "float32")]
    for case in cases:
        assert run_check(check, case, lesson=lesson, scaled=True).passed, f"{check} of {case.id} fails intact"
    monkeypatch.setattr(cls, attr, replacement)
    for case in cases:
        result = run_check(check, case, lesson=lesson, scaled=True)
        assert not result.passed, f"{mutation}: {check} of {case.id} at scale {scale} still passes"


def test_torch_s_bce_clamp_widens_the_bound_of_the_clamped_samples_only():
    """Where torch's BCELoss clamps p (1 - p) at 1e-12, dz_L is proportional to p (1 - p), so z_L's error
    reaches it relatively: the bound adds |dz_L| |1 - 2p| M(z_L) there (magnitudes._torch_clamp), nowhere else."""
    import numpy as np

    from conformance.magnitudes import _torch_clamp, forward_magnitudes
    from reference import MLP
    from reference.losses import BinaryCrossEntropy

    X = np.array([[-28.5], [0.3]])
    y = np.array([[1.0], [1.0]])
    model = MLP({"W1": np.array([[1.0]]), "b1": np.array([0.0])}, ("sigmoid",), BinaryCrossEntropy("torch"),
                fuse=False)
    model.gradients(X, y)
    m_z = forward_magnitudes(model, X)["z1"]
    added = _torch_clamp(model, model.a[-1], y, m_z)
    assert added[0, 0] == pytest.approx(abs(model.dz[-1][0, 0]) * abs(1 - 2 * model.a[-1][0, 0]) * m_z[0, 0])
    assert added[0, 0] > 0 and added[1, 0] == 0
    fused = MLP({"W1": np.array([[1.0]]), "b1": np.array([0.0])}, ("sigmoid",), "bce")
    fused.gradients(X, y)
    assert np.all(_torch_clamp(fused, fused.a[-1], y, m_z) == 0)  # from the logits: no clamp
