"""The regularizer checks have teeth: break one line of Dropout, BatchNorm, LayerNorm or L2 and the suite fails.

As in test_teeth.py: with the reference intact the checks pass; with a classic
mistake in place they fail, in float64 and in float32 (under the BatchNorm
lessons' wider float32 tolerance, ``tolerances.py``), and name the quantity
that is wrong.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.checks import actual, expected
from conformance.compare import compare
from conformance.lessons import LESSONS, SPIRAL_L2
from conformance.tolerances import tolerance
from frameworks import available_frameworks
from reference import BatchNormConvention
from reference import batchnorm as batchnorm_module
from reference.batchnorm import BatchNorm
from reference.dropout import Dropout
from reference.layernorm import LayerNorm
from reference.regularizers import L2

FRAMEWORKS = available_frameworks()
pytestmark = pytest.mark.skipif(not FRAMEWORKS, reason="no framework installed to compare against")
ORIGINAL_BATCHNORM_FORWARD = BatchNorm.forward


def backward_without_the_mean_path(self, dy):
    x_hat, inv_std, _ = self._cache
    dx_hat = dy * self.gamma
    dx = (dx_hat - x_hat * (dx_hat * x_hat).mean(axis=0)) * inv_std  # forgot: the mean depends on x
    return (dy * x_hat).sum(axis=0), dy.sum(axis=0), dx


def backward_without_the_variance_path(self, dy):
    x_hat, inv_std, _ = self._cache
    dx_hat = dy * self.gamma
    dx = (dx_hat - dx_hat.mean(axis=0)) * inv_std  # forgot: the variance depends on x
    return (dy * x_hat).sum(axis=0), dy.sum(axis=0), dx


def forward_normalising_with_the_unbiased_variance(self, x, training=True):
    if not training:
        return ORIGINAL_BATCHNORM_FORWARD(self, x, training)
    n = x.shape[0]
    mean = x.mean(axis=0)
    var = ((x - mean) ** 2).sum(axis=0) / (n - 1)  # np.var(ddof=1): what torch keeps, not what it divides by
    self._update_running_statistics(mean, ((x - mean) ** 2).mean(axis=0), n)
    inv_std = 1 / np.sqrt(var + self.epsilon)
    x_hat = (x - mean) * inv_std
    self._cache = (x_hat, inv_std, training)
    return self.gamma * x_hat + self.beta


def forward_with_epsilon_outside_the_root(self, x, training=True):
    mean = x.mean(axis=0) if training else self.moving_mean
    var = ((x - mean) ** 2).mean(axis=0) if training else self.moving_variance
    if training:
        self._update_running_statistics(mean, var, x.shape[0])
    inv_std = 1 / (np.sqrt(var) + self.epsilon)  # the seeds' style of "+ eps", in the wrong place
    x_hat = (x - mean) * inv_std
    self._cache = (x_hat, inv_std, training)
    return self.gamma * x_hat + self.beta


def running_statistics_with_momentum_on_the_batch(self, mean, var, n):
    var_r = var * (n / (n - 1)) if self.running_variance == "unbiased" else var
    m = self.momentum  # torch's meaning read as Keras's: the new batch gets the big weight
    self.moving_mean[...] = (1 - m) * self.moving_mean + m * mean
    self.moving_variance[...] = (1 - m) * self.moving_variance + m * var_r


def dropout_backward_without_the_scale(self, dy):
    return dy if self._scaled_mask is None else dy * (self._scaled_mask != 0)


def dropout_forward_not_inverted(self, a, training=True):
    if not training:
        self._scaled_mask = None
        return a
    self._scaled_mask = self.mask.astype(a.dtype)  # keeps, but never scales up by 1 / (1 - rate)
    return a * self._scaled_mask


def layernorm_forward_over_the_batch(self, x):
    mu = x.mean(axis=0, keepdims=True)  # BatchNorm's axis: each unit over the batch, not each row over its units
    var = ((x - mu) ** 2).mean(axis=0, keepdims=True)
    self.root = np.sqrt(var + self.epsilon)
    self.xhat = (x - mu) / self.root
    return self.gamma * self.xhat + self.beta


def layernorm_forward_with_epsilon_outside_the_root(self, x):
    mu = x.mean(axis=1, keepdims=True)
    self.root = np.sqrt(((x - mu) ** 2).mean(axis=1, keepdims=True)) + self.epsilon  # "+ eps" in the wrong place
    self.xhat = (x - mu) / self.root
    return self.gamma * self.xhat + self.beta


def layernorm_backward_without_the_mean_path(self, dy):
    dxhat = dy * self.gamma
    dx = (dxhat - self.xhat * (dxhat * self.xhat).mean(axis=1, keepdims=True)) / self.root  # forgot: mu depends on x
    return dx, {"gamma": (dy * self.xhat).sum(axis=0), "beta": dy.sum(axis=0)}


def l2_gradient_without_the_2(self, kernel):
    return self.l2 * kernel


TORCH_BIASED = {**batchnorm_module.CONVENTIONS,
                "torch": BatchNormConvention(momentum=0.9, epsilon=1e-5, running_variance="biased")}

# mutation -> (object, attribute, replacement, lesson, check that must fail, quantity named, frameworks)
MUTATIONS = {
    "batchnorm-backward-without-mean-path": (BatchNorm, "backward", backward_without_the_mean_path,
                                             "spiral-batchnorm", "gradients", "W1", None),
    "batchnorm-backward-without-variance-path": (BatchNorm, "backward", backward_without_the_variance_path,
                                                 "spiral-batchnorm", "gradients", "W1", None),
    "batchnorm-normalises-with-unbiased-variance": (BatchNorm, "forward",
                                                    forward_normalising_with_the_unbiased_variance,
                                                    "spiral-batchnorm", "forward", "bn1", None),
    "batchnorm-epsilon-outside-the-root": (BatchNorm, "forward", forward_with_epsilon_outside_the_root,
                                           "spiral-batchnorm", "forward", "bn", None),
    "momentum-weighs-the-batch": (BatchNorm, "_update_running_statistics",
                                  running_statistics_with_momentum_on_the_batch,
                                  "spiral-batchnorm", "step", "moving_", None),
    "torch-running-variance-biased": (batchnorm_module, "CONVENTIONS", TORCH_BIASED,
                                      "spiral-batchnorm", "step", "moving_variance", ["torch"]),
    "dropout-backward-without-scale": (Dropout, "backward", dropout_backward_without_the_scale,
                                       "spiral-dropout", "gradients", "W1", None),
    "dropout-not-inverted": (Dropout, "forward", dropout_forward_not_inverted,
                             "spiral-dropout", "forward", "dropout1", None),
    "layernorm-over-the-batch": (LayerNorm, "forward", layernorm_forward_over_the_batch,
                                 "spiral-layernorm", "forward", "ln1", None),
    "layernorm-epsilon-outside-the-root": (LayerNorm, "forward", layernorm_forward_with_epsilon_outside_the_root,
                                           "spiral-layernorm", "forward", "ln", None),
    "layernorm-backward-without-mean-path": (LayerNorm, "backward", layernorm_backward_without_the_mean_path,
                                             "spiral-layernorm", "gradients", "W1", None),
    "l2-gradient-without-the-2": (L2, "gradient", l2_gradient_without_the_2, "spiral-l2", "gradients", "W", None),
}


def run(check, lesson, framework, dtype):
    tol = tolerance(dtype, None, lesson)
    return compare(actual(check, lesson, framework, dtype), expected(check, lesson, dtype, convention=framework),
                   atol=tol.atol, rtol=tol.rtol, what=f"{check} of {lesson.name}-{framework}-{dtype}")


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_broken_regularizer_fails_the_suite(mutation, monkeypatch):
    target, attr, replacement, lesson_name, check, quantity, frameworks = MUTATIONS[mutation]
    lesson = SPIRAL_L2 if lesson_name == "spiral-l2" else LESSONS[lesson_name]
    frameworks = [fw for fw in (frameworks or FRAMEWORKS[:1]) if fw in FRAMEWORKS]
    if not frameworks:
        pytest.skip(f"{mutation} needs {MUTATIONS[mutation][-1]}")
    cases = [(fw, dt) for fw in frameworks for dt in ("float64", "float32")]
    for fw, dt in cases:  # intact: the same checks pass
        assert run(check, lesson, fw, dt).passed, f"{check} of {lesson.name}-{fw}-{dt} fails before the mutation"
    monkeypatch.setattr(target, attr, replacement)
    for fw, dt in cases:
        result = run(check, lesson, fw, dt)
        assert not result.passed, f"{mutation}: {check} of {lesson.name}-{fw}-{dt} still passes"
        failing = [item.name for item in result.failures()]
        assert any(name.startswith(quantity) for name in failing), (mutation, failing)
        assert result.message(), "a failure must come with a report"
