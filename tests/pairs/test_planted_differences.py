"""A port with one planted difference fails, names the first divergence and the convention, and gives the
setting that fixes it, tried: ``compare_models`` runs the pair again with it."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch", reason="compare_models needs torch: pip install 'nnparity[torch]'")
pytest.importorskip("keras", reason="compare_models needs Keras: pip install 'nnparity[keras]'")

import torch  # noqa: E402
from torch import nn  # noqa: E402

import nnparity  # noqa: E402
from pair_zoo import L, data, keras, keras_mlp, torch_mlp  # noqa: E402

SIZES, ACTS = (4, 8, 8, 1), ("tanh", "relu", "sigmoid")
BCE = dict(torch_loss=nn.BCELoss(), keras_loss=keras.losses.BinaryCrossentropy())
SGD = dict(torch_optimizer=lambda p: torch.optim.SGD(p, lr=0.1), keras_optimizer=keras.optimizers.SGD(0.1))


def compare(tm, km, *, steps=5, **options):
    X, y = data(SIZES[0], SIZES[-1], "bce")
    return nnparity.compare_models(tm, km, X, y, steps=steps, **{**BCE, **SGD, **options})


def explanation(result, key):
    found = [e for e in result.explanations if e.key == key]
    assert found, f"no explanation {key!r} in:\n{result.report()}"
    return found[0]


def test_adam_at_each_frameworks_defaults():
    result = compare(torch_mlp(SIZES, ACTS), keras_mlp(SIZES, ACTS),
                     torch_optimizer=lambda p: torch.optim.Adam(p), keras_optimizer=keras.optimizers.Adam())
    assert not result.passed
    assert result.divergence.quantity.name == "W1 after step 1"  # forward, loss and every gradient agree
    eps = [e for e in result.explanations if e.key == "adam-epsilon"]
    assert eps[0].fix.startswith("keras.optimizers.Adam(epsilon=1e-08)")
    assert "torch's default" in eps[0].detail and "Keras's default" in eps[0].detail
    assert eps[0].verdict == "with it (and torch following Keras's epsilon-hat), the two models agree"
    assert any(e.fix is None and "epsilon-hat" in e.detail for e in eps)  # the placement: no setting
    with pytest.raises(AssertionError, match="adam-epsilon"):
        nnparity.assert_models_agree(torch_mlp(SIZES, ACTS), keras_mlp(SIZES, ACTS), *data(4, 1, "bce"), steps=2,
                                     **BCE, torch_optimizer=lambda p: torch.optim.Adam(p),
                                     keras_optimizer=keras.optimizers.Adam())


ONE_HIDDEN = ((4, 8, 1), ("relu", "sigmoid"))


def test_batchnorm_at_each_frameworks_default_momentum():
    km = keras_mlp(*ONE_HIDDEN, batchnorm=dict(epsilon=1e-5))  # Keras's default momentum, 0.99
    result = compare(torch_mlp(*ONE_HIDDEN, batchnorm=(0.1, 1e-5)), km)  # torch's default momentum, 0.1
    assert result.divergence.quantity.name == "moving_mean1 after step 1"
    e = explanation(result, "batchnorm-momentum")
    assert "momentum=0.99" in e.detail and "BatchNormalization(momentum=0.9)" in e.fix
    assert e.verdict == "with it (and torch following Keras's biased-running-variance), the two models agree"


def test_batchnorm_at_every_default_names_epsilon_first_then_momentum():
    result = compare(torch_mlp(*ONE_HIDDEN, batchnorm=(0.1, 1e-5)), keras_mlp(*ONE_HIDDEN, batchnorm={}))
    assert result.divergence.quantity.name == "bn1"
    assert [e.key for e in result.explanations][:2] == ["norm-epsilon", "batchnorm-momentum"]
    assert explanation(result, "norm-epsilon").verdict.endswith("part at moving_mean1 after step 1 (step)")
    assert result.together == "with it (and torch following Keras's biased-running-variance), the two models agree"


def test_a_softmax_model_with_torch_cross_entropy_applies_softmax_twice():
    sizes, acts = (4, 8, 3), ("relu", "softmax")
    X, y = data(4, 3, "cce")
    result = nnparity.compare_models(torch_mlp(sizes, acts), keras_mlp(sizes, acts), X, y, steps=3,
                                     torch_loss=nn.CrossEntropyLoss(),
                                     keras_loss=keras.losses.CategoricalCrossentropy(), **SGD)
    assert result.divergence.quantity.name == "loss"  # every layer's output agrees
    e = explanation(result, "softmax-cross-entropy")
    assert "Softmax '3'" in e.fix and e.verdict == "with it, the two models agree"


def test_a_missing_activation():
    km = keras.Sequential([keras.Input((4,)), L.Dense(8, activation="tanh"), L.Dense(8), L.Dense(1, activation="sigmoid")])
    result = compare(torch_mlp(SIZES, ACTS), km)
    assert result.divergence.quantity.name == "a2"
    e = explanation(result, "activation")
    assert "torch applies relu, Keras no activation" in e.detail
    assert "activation='relu' on keras layer 1 (Dense" in e.fix and e.verdict == "with it, the two models agree"


def test_an_extra_layer_is_refused_naming_its_position():
    km = keras.Sequential([keras.Input((4,)), L.Dense(8, activation="tanh"), L.Dense(8, activation="relu"),
                           L.Dense(8, activation="relu", name="extra"), L.Dense(1, activation="sigmoid")])
    with pytest.raises(nnparity.PairError, match=r"keras layer 2 \(Dense 'extra'\), a dense 8 -> 8 \(layer with weights number 3\), has no partner in the torch "
                       r"model \(the torch model has 3 layers with weights, the Keras model 4\)"):
        compare(torch_mlp(SIZES, ACTS), km)


def test_an_unsupported_layer_is_refused_naming_its_position():
    tm = nn.Sequential(nn.Linear(4, 8), nn.Mish(), nn.Linear(8, 1))
    with pytest.raises(nnparity.PairError, match=r"torch layer 1 \(Mish '1'\): not supported"):
        compare(tm, keras_mlp((4, 8, 1), ("relu", "sigmoid")))


def test_the_learning_rate_default_of_sgd():
    result = compare(torch_mlp(SIZES, ACTS), keras_mlp(SIZES, ACTS),
                     torch_optimizer=lambda p: torch.optim.SGD(p), keras_optimizer=keras.optimizers.SGD())
    e = explanation(result, "sgd-default-lr")
    assert "lr=0.001 (torch's default)" in e.detail and "learning_rate=0.01 (Keras's default)" in e.detail
    assert e.verdict == "with it, the two models agree"


def test_keras_clipping_that_torch_optim_cannot_do():
    result = compare(torch_mlp(SIZES, ACTS), keras_mlp(SIZES, ACTS), keras_optimizer=keras.optimizers.SGD(0.1, clipnorm=0.01))
    assert result.divergence.quantity.stage == "step"
    e = explanation(result, "gradient-clipping")
    assert "clipnorm=0.01" in e.detail and e.verdict == "with it, the two models agree"


def test_saturated_bce_names_the_clipping_and_has_no_setting():
    tm = torch_mlp((4, 8, 1), ("relu", "sigmoid"))
    with torch.no_grad():
        tm[2].weight.mul_(400.0)  # outputs within 1e-7 of 0 or 1
    result = compare(tm, keras_mlp((4, 8, 1), ("relu", "sigmoid")), steps=2)
    assert result.divergence.quantity.name == "loss"
    e = explanation(result, "bce-probabilities")
    assert "BCEWithLogitsLoss" in e.fix and e.verdict == ""  # a change of the models: not tried


def test_dropout_runs_off_and_its_rates_are_compared():
    result = compare(torch_mlp(SIZES, ACTS, dropout=0.2), keras_mlp(SIZES, ACTS, dropout=0.5))
    assert result.divergence.quantity.name == "dropout after a1"
    assert result.divergence.quantity.stage == "config"
    assert np.isclose(result.divergence.item.max_abs_err, 0.3)
    assert any("Dropout runs off" in note for note in result.notes)


def test_a_bias_before_batchnorm_under_adam_is_named_with_its_fix():
    sizes, acts = (2, 16, 16, 1), ("relu", "relu", "sigmoid")
    X, y = data(2, 1, "bce")
    adam = dict(torch_optimizer=lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-7),
                keras_optimizer=keras.optimizers.Adam(0.01), **BCE)

    def pair(bias):
        return (torch_mlp(sizes, acts, bias=bias, batchnorm=(0.1, 1e-3)),
                keras_mlp(sizes, acts, bias=bias, batchnorm=dict(momentum=0.9, epsilon=1e-3)))

    result = nnparity.compare_models(*pair(True), X, y, steps=5, **adam)
    assert not result.passed
    e = result.explanations[0]
    assert e.key == "zero-gradient" and "b1 (torch layer 0 (Linear '0')) feeds a BatchNorm" in e.detail
    assert "bias=False on torch layer 0" in e.fix and "use_bias=False on keras layer 0" in e.fix
    # without the biases, the same pair is known: only the epsilon-hat and the running variance differ
    assert nnparity.compare_models(*pair(False), X, y, steps=5, **adam).status == "known"


def test_nadam_at_torch_s_default_momentum_decay_is_the_same_algorithm_another_schedule():
    """torch's NAdam against Keras's Nadam: the same algorithm (not "different algorithms"), and the difference named
    is the momentum schedule, Keras's having no momentum_decay (docs/conventions-optimizers.md)."""
    result = compare(torch_mlp(SIZES, ACTS), keras_mlp(SIZES, ACTS),
                     torch_optimizer=lambda p: torch.optim.NAdam(p, lr=1e-3, eps=1e-7),
                     keras_optimizer=keras.optimizers.Nadam(learning_rate=1e-3, epsilon=1e-7))
    assert not result.passed
    assert not [e for e in result.explanations if e.key == "optimizer"], result.report()
    e = explanation(result, "nadam-momentum-decay")
    assert "momentum_decay=0.004" in e.detail and "momentum_decay=1.0" in e.fix and "TorchNAdam" in e.fix
