"""The calls the rows of ``test_bad_input.py`` make: each mistake made with the reference, and the same
mistake made with torch and with Keras (imported lazily: a row's framework may not be installed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from reference import (
    MLP,
    RegularizedMLP,
)
from reference.batchnorm import BatchNorm, BatchNormConvention
from reference.dropout import Dropout


@dataclass(frozen=True)
class BadInput:
    name: str
    reference: Callable[[], object]  # the mistake made with the reference
    error: type  # what the reference raises
    says: tuple[str, ...]  # words its message must contain: the thing at fault and what was received
    refused_by: dict[str, Callable[[], object]] = field(default_factory=dict)  # framework -> the same mistake


def ones(*shape):
    return np.ones(shape)


def mlp_2_3_1():
    return MLP({"W1": ones(2, 3), "b1": ones(3), "W2": ones(3, 1), "b2": ones(1)}, ["relu", "linear"])


# ----- the frameworks' versions of each mistake -----------------------------------------------------------------

def torch_loss(name, pred_shape, target_shape):
    import torch

    return getattr(torch.nn, name)()(torch.full(pred_shape, 0.5, dtype=torch.float64),
                                      torch.ones(target_shape, dtype=torch.float64))


def torch_linear_2_3_on_data(rows):
    import torch

    return torch.nn.Linear(2, 3, dtype=torch.float64)(torch.tensor(rows, dtype=torch.float64))


def torch_linear_2_3_on(x_shape):
    import torch

    return torch.nn.Linear(2, 3, dtype=torch.float64)(torch.ones(*x_shape, dtype=torch.float64))


def keras_dense_2_3_on(x_shape):
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
    return model(np.ones(x_shape, dtype="float32"))


def torch_chain(w1_out, w2_in):
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(2, w1_out), torch.nn.ReLU(), torch.nn.Linear(w2_in, 1))
    return model(torch.ones(5, 2))


def keras_set_weights(shapes):
    import keras

    layer = keras.layers.Dense(3)
    layer.build((None, 2))
    layer.set_weights([np.ones(s) for s in shapes])


def torch_load(state):
    import torch

    layer = torch.nn.Linear(2, 3)
    layer.load_state_dict({k: torch.ones(*s) for k, s in state.items()})


def torch_optimizer(name, **hyper):
    import torch

    return getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **hyper)


def keras_get(kind, name):
    import keras

    return getattr(keras, kind).get(name)


def keras_optimizer(name, **hyper):
    import keras

    return getattr(keras.optimizers, name)(**hyper)


def torch_init(fn, shape, **kwargs):
    import torch

    return getattr(torch.nn.init, fn)(torch.empty(*shape), **kwargs)


def torch_dropout(p):
    import torch

    return torch.nn.Dropout(p=p)


def keras_dropout(rate):
    import keras

    return keras.layers.Dropout(rate)


def torch_batchnorm_on(n):
    import torch

    return torch.nn.BatchNorm1d(3).train()(torch.ones(n, 3))


def keras_l2(factor):
    import keras

    return keras.regularizers.L2(factor)


def backward_after_forward(X, y):
    model = mlp_2_3_1()
    model.forward(X)
    return model.backward(y)


def dropout_with_mask(shape):
    d = Dropout(0.5)
    d.set_mask(np.ones(shape, dtype=bool))
    return d


def torch_sampler(n):
    import torch

    return torch.utils.data.RandomSampler(torch.utils.data.TensorDataset(torch.ones(n, 2)))


def torch_loader(batch_size):
    import torch

    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.ones(4, 2)), batch_size=batch_size)


def torch_bn_mlp_load(drop=(), extra=(), gamma_shape=(3,)):
    """torch's Linear(2, 3), BatchNorm1d(3), ReLU, Linear(3, 1), loaded with a state dict missing ``drop``,
    with ``extra`` keys, and a BatchNorm weight of ``gamma_shape``."""
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    state = {k: v for k, v in model.state_dict().items() if k not in drop}
    state.update({k: torch.ones(3) for k in extra})
    state["1.weight"] = torch.ones(*gamma_shape)
    model.load_state_dict(state)


def torch_batchnorm_3_on(x_shape):
    import torch

    return torch.nn.BatchNorm1d(3).train()(torch.ones(*x_shape))


def torch_batchnorm_weights(shapes):
    import torch

    return torch_load_into(torch.nn.BatchNorm1d(3), shapes)


def torch_load_into(module, shapes):
    import torch

    module.load_state_dict({**module.state_dict(), **{k: torch.ones(*s) for k, s in shapes.items()}})


DENSE_2_3_1 = {"W1": ones(2, 3), "b1": ones(3), "W2": ones(3, 1), "b2": ones(1)}
BN_3 = {"gamma1": ones(3), "beta1": ones(3), "moving_mean1": ones(3), "moving_variance1": ones(3)}
TORCH_BN = BatchNormConvention(momentum=0.9, epsilon=1e-5, running_variance="unbiased")


def regularized(params, **kwargs):
    return RegularizedMLP(params, ["relu", "linear"], **kwargs)


def batchnorm(gamma=None, beta=None, momentum=0.9, epsilon=1e-5, running_variance="unbiased"):
    return BatchNorm(ones(3) if gamma is None else gamma, ones(3) if beta is None else beta, ones(3), ones(3),
                     momentum=momentum, epsilon=epsilon, running_variance=running_variance)


# (row, framework) -> words of the framework's own refusal: it refuses for the same reason
FRAMEWORK_SAYS = {
    ("x-with-the-wrong-width", "torch"): "shapes cannot be multiplied (5x3 and 2x3)",
    ("x-with-the-wrong-width", "keras"): "incompatible",
    ("layers-that-do-not-chain", "torch"): "shapes cannot be multiplied (5x3 and 4x1)",
    ("bias-of-the-wrong-size", "torch"): "size mismatch for bias",
    ("bias-of-the-wrong-size", "keras"): "weight shape (3,) is not compatible with provided weight shape (4,)",
    ("kernel-not-2-d", "torch"): "size mismatch for weight",
    ("kernel-not-2-d", "keras"): "provided weight shape (2, 3, 1)",
    ("set-params-of-the-wrong-shape", "torch"): "size mismatch for weight",
    ("set-params-of-the-wrong-shape", "keras"): "provided weight shape (3, 2)",
    ("set-params-of-an-unknown-name", "torch"): 'Unexpected key(s) in state_dict: "W9"',
    ("unknown-activation", "keras"): "Could not interpret activation function identifier: swish2",
    ("unknown-loss", "keras"): "Could not interpret loss identifier: hinge2",
    ("unknown-initializer", "keras"): "Could not interpret initializer identifier: lecun2",
    ("unknown-optimizer", "keras"): "Could not interpret optimizer identifier: adamax2",
    ("normal-with-a-negative-scale", "torch"): "normal expects std >= 0.0",
    ("uniform-with-low-above-high", "torch"): "expects to return a [from, to) range",
    ("fans-of-a-1-d-shape", "torch"): "Fan in and fan out can not be computed",
    ("negative-learning-rate", "torch"): "Invalid learning rate: -0.1",
    ("momentum-out-of-range", "torch"): "Invalid momentum value: -0.5",
    ("nesterov-without-momentum", "torch"): "Nesterov momentum requires a momentum",
    ("negative-weight-decay", "torch"): "Invalid weight_decay value: -0.01",
    ("adam-beta-1-of-1", "torch"): "Invalid beta parameter at index 0: 1.0",
    ("adam-beta-2-of-1", "torch"): "Invalid beta parameter at index 1: 1.0",
    ("adam-negative-epsilon", "torch"): "Invalid epsilon value: -1e-08",
    ("rmsprop-rho-below-0", "torch"): "Invalid alpha value: -0.1",
    ("rmsprop-negative-momentum", "torch"): "Invalid momentum value: -0.1",
    ("rmsprop-negative-epsilon", "torch"): "Invalid epsilon value: -1e-08",
    ("adagrad-negative-accumulator", "torch"): "Invalid initial_accumulator_value value: -0.1",
    ("adagrad-negative-epsilon", "torch"): "Invalid epsilon value: -1e-08",
    ("two-clipping-options", "keras"): "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set",
    ("dropout-rate-above-1", "torch"): "dropout probability has to be between 0 and 1, but got 1.5",
    ("dropout-rate-above-1", "keras"): "Received: rate=1.5",
    ("dropout-rate-below-0", "torch"): "dropout probability has to be between 0 and 1, but got -0.1",
    ("dropout-rate-below-0", "keras"): "Received: rate=-0.1",
    ("batchnorm-training-on-one-sample", "torch"): "Expected more than 1 value per channel when training",
    ("negative-l2-factor", "keras"): "expected a non-negative float",
    ("batchnorm-parameters-missing", "torch"): "Missing key(s) in state_dict",
    ("batchnorm-parameters-without-batchnorm", "torch"): 'Unexpected key(s) in state_dict: "gamma1"',
    ("batchnorm-gamma-of-the-wrong-size", "torch"): "size mismatch for 1.weight",
    ("batchnorm-beta-of-the-wrong-shape", "torch"): "size mismatch for bias",
    ("batchnorm-moving-mean-of-the-wrong-shape", "torch"): "size mismatch for running_mean",
    ("batchnorm-moving-variance-of-the-wrong-shape", "torch"): "size mismatch for running_var",
    ("batchnorm-gamma-2-d", "torch"): "size mismatch for weight",
    ("batchnorm-x-of-the-wrong-width", "torch"): "running_mean should contain 4 elements not 3",
    ("loss-target-of-another-shape", "torch"): "Using a target size (torch.Size([4])) that is different to the "
    "input size (torch.Size([4, 1])) is deprecated",
    ("x-that-is-not-numbers", "torch"): "too many dimensions 'str'",
    ("x-of-ragged-rows", "torch"): "expected sequence of length 2 at dim 1 (got 1)",
    ("no-samples", "torch"): "num_samples should be a positive integer value",
    ("batch-size-0", "torch"): "batch_size should be a positive integer value",
    ("fit-batches-of-size-0", "torch"): "batch_size should be a positive integer value",
    ("optimizer-with-torch-s-name-for-a-hyper-parameter", "keras"): "Argument(s) not recognized: {'lr': 0.1}",
}
