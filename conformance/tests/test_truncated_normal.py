"""Truncated normal draws: bounded, continuous, as the frameworks' are.

Keras's ``GlorotNormal`` and ``HeNormal`` draw from a normal cut at two of its own
standard deviations (``TruncatedNormal``: a draw outside is drawn again), scaled so
that the cut distribution has the wanted standard deviation; torch's
``trunc_normal_(std=s, a=-2s, b=2s)`` cuts the same way. The statistical comparison of
the reference's draws with Keras's is in the component checks (``compare_draws``);
two properties hold for every single draw and need no statistics:

- every value lies within the cut: ``|w| <= 2 * std / TRUNCATED_NORMAL_STD``;
- no value repeats (a continuous distribution repeats with probability 0).

A redraw that cut at three standard deviations, or that put one shared value in every
place it redrew, would pass a comparison of moments, and fails these.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.tests.support import needs
from reference import get_initializer
from reference.initializers import TRUNCATED_NORMAL_STD

SHAPE = (200, 200)  # 40,000 draws: about 1,800 fall outside the cut at first and are drawn again
FAN_IN, FAN_OUT = SHAPE
STD = {"glorot_normal": np.sqrt(2.0 / (FAN_IN + FAN_OUT)), "he_normal": np.sqrt(2.0 / FAN_IN)}


def _assert_truncated(w: np.ndarray, std: float, who: str) -> None:
    bound = 2 * std / TRUNCATED_NORMAL_STD
    worst = float(np.abs(w).max())
    assert worst <= bound * (1 + 1e-12), f"{who}: a draw of {worst} lies beyond the cut at {bound}"
    assert np.unique(w).size == w.size, f"{who}: {w.size - np.unique(w).size} values repeat"


@pytest.mark.parametrize("name", list(STD))
def test_the_reference_s_truncated_draws_are_bounded_and_continuous(name):
    w = get_initializer(name, truncated=True)(SHAPE, np.random.default_rng(0))
    _assert_truncated(w, STD[name], f"{name}(truncated=True)")


@pytest.mark.parametrize("name", list(STD))
def test_torch_s_truncated_normal_has_the_same_cut(name):
    needs("torch")
    import torch

    raw = STD[name] / TRUNCATED_NORMAL_STD  # the standard deviation of the normal before the cut
    torch.manual_seed(0)
    w = torch.nn.init.trunc_normal_(torch.empty(SHAPE, dtype=torch.float64), std=raw, a=-2 * raw, b=2 * raw)
    _assert_truncated(w.numpy(), STD[name], f"torch trunc_normal_ for {name}")


@pytest.mark.parametrize("name,keras_name", [("glorot_normal", "GlorotNormal"), ("he_normal", "HeNormal")])
def test_keras_s_truncated_normal_has_the_same_cut(name, keras_name):
    needs("keras")
    import keras

    w = np.asarray(getattr(keras.initializers, keras_name)(seed=0)(SHAPE, dtype="float64"))
    _assert_truncated(w, STD[name], f"keras {keras_name}")
