"""compare_models with ``batch_size``: every step takes the next samples in order (no shuffling), the same
batches in both models; the first step's quantities are the first batch's. float64."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch", reason="compare_models needs torch: pip install 'nnparity[torch]'")
pytest.importorskip("keras", reason="compare_models needs Keras: pip install 'nnparity[keras]'")

import torch  # noqa: E402
from torch import nn  # noqa: E402

import nnparity  # noqa: E402
from nnparity.pairs.pairing import pair as pair_layers  # noqa: E402
from nnparity.pairs.run import Inputs, batches, run  # noqa: E402
from nnparity.pairs.specs import keras_specs, torch_specs  # noqa: E402
from pair_zoo import data, keras, keras_mlp, torch_mlp  # noqa: E402

SIZES, ACTS = (4, 8, 1), ("tanh", "sigmoid")
BCE = dict(torch_loss=nn.BCELoss(), keras_loss=keras.losses.BinaryCrossentropy())
SGD = dict(torch_optimizer=lambda p: torch.optim.SGD(p, lr=0.1), keras_optimizer=keras.optimizers.SGD(0.1))


def inputs(batch_size, steps, **options):
    X, y = data(4, 1, "bce")  # 24 samples
    options = {**BCE, **SGD, **options}
    return Inputs(torch_mlp(SIZES, ACTS), keras_mlp(SIZES, ACTS), X, y, options["torch_loss"], options["keras_loss"],
                  options["torch_optimizer"], options["keras_optimizer"], steps, "float64", batch_size)


def test_each_step_takes_the_next_batch_in_order_and_starts_again_after_the_last():
    assert batches(inputs(5, 7)) == [(0, 5), (5, 10), (10, 15), (15, 20), (20, 24), (0, 5), (5, 10)]
    assert batches(inputs(None, 3)) == [(0, 24)] * 3
    assert batches(inputs(100, 2)) == [(0, 24)] * 2


def test_the_torch_side_steps_on_the_batches_as_a_hand_written_loop_does():
    given = inputs(5, 6)
    pair = pair_layers(torch_specs(given.torch_model), keras_specs(given.keras_model))
    result = run(given, pair)
    assert result.passed, {k: c.max_abs_err for k, c in result.comparisons.items()}
    model = given.torch_model.double()  # the hand-written loop: the samples in order, 5 at a time, then again
    X, y = torch.tensor(given.X), torch.tensor(given.y)
    first_batch = nn.BCELoss()(model(X[:5]), y[:5]).item()  # the walk's loss is the first batch's
    assert result.torch_values["loss"] == first_batch and result.torch_values["z1"].shape == (5, 8)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for start in (0, 5, 10, 15, 20, 0):
        opt.zero_grad()
        nn.BCELoss()(model(X[start:start + 5]), y[start:start + 5]).backward()
        opt.step()
    assert np.array_equal(result.torch_values["W1 after step 6"], model[0].weight.detach().numpy().T)


@pytest.mark.parametrize("batch_size, optimizer, status", [
    (8, {}, "passed"), (5, {}, "passed"),
    (10, dict(torch_optimizer=lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-7),
              keras_optimizer=keras.optimizers.Adam(0.01)), "known"),
])
def test_a_correct_port_agrees_on_mini_batches(batch_size, optimizer, status):
    X, y = data(4, 1, "bce")
    result = nnparity.compare_models(torch_mlp(SIZES, ACTS), keras_mlp(SIZES, ACTS), X, y, steps=7,
                                     batch_size=batch_size, **{**BCE, **SGD, **optimizer})
    assert result.status == status, result.report()
    assert result.to_json()["batch_size"] == batch_size
    assert f"7 steps of {batch_size} samples in order" in result.report()


def test_a_batchnorm_port_on_mini_batches_is_known_by_its_running_variance():
    X, y = data(4, 1, "bce")
    tm = torch_mlp(SIZES, ACTS, batchnorm=(0.1, 1e-3))
    km = keras_mlp(SIZES, ACTS, batchnorm=dict(momentum=0.9, epsilon=1e-3))
    result = nnparity.compare_models(tm, km, X, y, steps=5, batch_size=6, **BCE, **SGD)
    assert result.status == "known", result.report()
    assert [e.key for e in result.accounted] == ["batchnorm-running-variance"]


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "8"])
def test_a_batch_size_that_is_not_a_positive_whole_number_is_refused_naming_it(bad):
    X, y = data(4, 1, "bce")
    with pytest.raises(ValueError, match=rf"batch_size must be None .* Received: batch_size={bad!r}"):
        nnparity.compare_models(torch_mlp(SIZES, ACTS), keras_mlp(SIZES, ACTS), X, y, batch_size=bad, **BCE, **SGD)
