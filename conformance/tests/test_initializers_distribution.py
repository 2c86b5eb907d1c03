"""Xavier and He in the reference draw from the distribution torch.nn.init and keras.initializers draw from.

Each comparison draws 10,000 weights of one (fan_in=50, fan_out=200) kernel on each
side and runs scipy's two-sample Kolmogorov-Smirnov test at ALPHA = 1e-3: a correct
reference fails one comparison with probability 1e-3 (about 1% over the eight
comparisons here), whatever the seed. The seeds are fixed, so the suite is
deterministic; a failure after changing a seed is that 1-in-1000, not a reason
to pick another seed.

The same test must *reject* a reference with the wrong fan (fan_out where fan_in
belongs, or fan_in alone where Glorot uses fan_in + fan_out) or the wrong scale
(He without its 2): the kernel is 50 x 200, so every such mistake changes the
spread by a factor of at least sqrt(2), and the test tells (its power is checked
in ``test_the_test_rejects_a_wrong_fan_or_scale``).

The sample variance is also checked against the formula: for 10,000 draws its
relative standard error is at most sqrt(2/n) = 1.4%, so 7% is 5 standard errors.

Keras's normal initializers are 2-sigma truncated normals (widened to keep the
variance); torch's are plain normals. The reference draws either
(``truncated=True``/``False``) and is compared with each in its own form.
"""

from __future__ import annotations

import numpy as np
import pytest

from frameworks import unavailable_reason
from reference import get_initializer

scipy_stats = pytest.importorskip("scipy.stats", reason="the distribution tests need scipy (pip install scipy)")

ALPHA = 1e-3
FAN_IN, FAN_OUT = 50, 200
SEED = 20240601
VARIANCE_RTOL = 0.07  # 5 standard errors of a 10,000-draw sample variance (module doc)

# reference initializer -> its variance from the formula
VARIANCE = {
    "glorot_uniform": 2.0 / (FAN_IN + FAN_OUT),  # limit**2 / 3 with limit = sqrt(6 / (fan_in + fan_out))
    "glorot_normal": 2.0 / (FAN_IN + FAN_OUT),
    "he_uniform": 2.0 / FAN_IN,
    "he_normal": 2.0 / FAN_IN,
}


def reference_draw(name: str, truncated=None, seed=SEED, shape=(FAN_IN, FAN_OUT)) -> np.ndarray:
    kwargs = {} if truncated is None else {"truncated": truncated}
    return get_initializer(name, **kwargs)(shape, np.random.default_rng(seed)).ravel()


def _need(framework: str) -> None:
    reason = unavailable_reason(framework)
    if reason:
        pytest.skip(reason)


def torch_draw(name: str) -> np.ndarray:
    _need("torch")
    import torch

    init = {
        "glorot_uniform": lambda t, g: torch.nn.init.xavier_uniform_(t, generator=g),
        "glorot_normal": lambda t, g: torch.nn.init.xavier_normal_(t, generator=g),
        "he_uniform": lambda t, g: torch.nn.init.kaiming_uniform_(t, nonlinearity="relu", generator=g),
        "he_normal": lambda t, g: torch.nn.init.kaiming_normal_(t, nonlinearity="relu", generator=g),
    }[name]
    weight = torch.empty(FAN_OUT, FAN_IN, dtype=torch.float64)  # nn.Linear's (out, in) layout: fan_in = 50
    init(weight, torch.Generator().manual_seed(SEED))
    return weight.numpy().T.ravel()


def keras_draw(name: str) -> np.ndarray:
    _need("keras")
    import keras

    from frameworks import keras_twin  # noqa: F401  (its environment settings come before keras's import)

    cls = {
        "glorot_uniform": keras.initializers.GlorotUniform,
        "glorot_normal": keras.initializers.GlorotNormal,
        "he_uniform": keras.initializers.HeUniform,
        "he_normal": keras.initializers.HeNormal,
    }[name]
    return np.asarray(cls(seed=SEED)(shape=(FAN_IN, FAN_OUT), dtype="float64")).ravel()


# (reference initializer, its truncated flag or None, framework, the framework's draw)
CASES = [
    ("glorot_uniform", None, "torch"),
    ("glorot_normal", False, "torch"),
    ("he_uniform", None, "torch"),
    ("he_normal", False, "torch"),
    ("glorot_uniform", None, "keras"),
    ("glorot_normal", True, "keras"),
    ("he_uniform", None, "keras"),
    ("he_normal", True, "keras"),
]
DRAWS = {"torch": torch_draw, "keras": keras_draw}


@pytest.mark.parametrize("name,truncated,framework", CASES, ids=[f"{n}-{f}" for n, _, f in CASES])
def test_reference_draws_like_the_framework(name, truncated, framework):
    ours, theirs = reference_draw(name, truncated), DRAWS[framework](name)
    result = scipy_stats.ks_2samp(ours, theirs)
    assert result.pvalue > ALPHA, (
        f"{name}: the reference's draws and {framework}'s differ (KS statistic {result.statistic:.4f}, "
        f"p = {result.pvalue:.2e} <= {ALPHA})"
    )
    for side, sample in (("reference", ours), (framework, theirs)):
        ratio = sample.var() / VARIANCE[name]
        assert abs(ratio - 1) <= VARIANCE_RTOL, f"{name} ({side}): variance is {ratio:.3f} x the formula's"


MISTAKES = {
    # what a wrong reference would draw instead, as (initializer, truncated, shape, scale)
    "fan_out used as fan_in": ("he_normal", False, (FAN_OUT, FAN_IN), 1.0),
    "He without its 2": ("he_normal", False, (FAN_IN, FAN_OUT), np.sqrt(0.5)),
    "Glorot with fan_in alone": ("he_uniform", None, (FAN_IN, FAN_OUT), 1.0),  # limit sqrt(6 / fan_in)
    "He uniform without its 2": ("he_uniform", None, (FAN_IN, FAN_OUT), np.sqrt(0.5)),
}
MISTAKE_TARGET = {
    "fan_out used as fan_in": "he_normal",
    "He without its 2": "he_normal",
    "Glorot with fan_in alone": "glorot_uniform",
    "He uniform without its 2": "he_uniform",
}


@pytest.mark.parametrize("framework", ["torch", "keras"])
@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_the_test_rejects_a_wrong_fan_or_scale(mistake, framework):
    name, truncated, shape, scale = MISTAKES[mistake]
    wrong = reference_draw(name, truncated, shape=shape) * scale
    theirs = DRAWS[framework](MISTAKE_TARGET[mistake])
    assert scipy_stats.ks_2samp(wrong, theirs).pvalue < ALPHA, f"{mistake} was not detected against {framework}"
