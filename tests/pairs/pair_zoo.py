"""Model pairs for the tests of ``nnparity.compare_models``: a torch nn.Sequential and a Keras Sequential of
one architecture, built the way a porting engineer writes them (each framework's own layers and defaults,
unless a test plants a difference). Frameworks are imported once per process, here."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from conformance.cases import optimizer_of
from frameworks.keras_twin import keras  # sets Keras's backend and TensorFlow's flags before Keras loads

L = keras.layers
TORCH_ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "softmax": lambda: nn.Softmax(dim=1)}


def half_sse_torch(p, y):
    return 0.5 * ((p - y) ** 2).sum()


def half_sse_keras(y, p):
    return 0.5 * keras.ops.sum((p - y) ** 2)


# lesson loss -> (torch loss, Keras loss, whether torch's model ends with the logits)
LOSSES = {
    "bce": (nn.BCELoss, keras.losses.BinaryCrossentropy, False),
    "mse": (nn.MSELoss, keras.losses.MeanSquaredError, False),
    "cce": (nn.CrossEntropyLoss, keras.losses.CategoricalCrossentropy, True),
    "half_sse": (lambda: half_sse_torch, lambda: half_sse_keras, False),
}


def torch_mlp(sizes, activations, *, bias=True, batchnorm=None, dropout=None, logits=False, seed=0, layernorm=None):
    """Linear, [BatchNorm1d(momentum, eps) or LayerNorm(eps=layernorm)], activation, [Dropout], ...; ``logits``:
    no final activation."""
    torch.manual_seed(seed)
    layers = []
    for i, (n_in, n_out, act) in enumerate(zip(sizes[:-1], sizes[1:], activations)):
        hidden = i < len(sizes) - 2
        layers.append(nn.Linear(n_in, n_out, bias=bias))
        if batchnorm and hidden:
            layers.append(nn.BatchNorm1d(n_out, momentum=batchnorm[0], eps=batchnorm[1]))
        if layernorm is not None and hidden:
            layers.append(nn.LayerNorm(n_out, eps=layernorm))
        if hidden or not logits:
            layers.append(TORCH_ACTIVATIONS[act]())
        if dropout and hidden:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def keras_mlp(sizes, activations, *, bias=True, batchnorm=None, dropout=None, layernorm=None):
    """Dense(activation=...) where nothing comes between, else Dense, BatchNormalization (or
    LayerNormalization(epsilon=layernorm)), Activation, [Dropout]."""
    layers = [keras.Input((sizes[0],))]
    for i, (n_out, act) in enumerate(zip(sizes[1:], activations)):
        hidden = i < len(sizes) - 2
        if batchnorm is not None and hidden:
            layers += [L.Dense(n_out, use_bias=bias), L.BatchNormalization(**batchnorm), L.Activation(act)]
        elif layernorm is not None and hidden:
            layers += [L.Dense(n_out, use_bias=bias), L.LayerNormalization(epsilon=layernorm), L.Activation(act)]
        else:
            layers.append(L.Dense(n_out, activation=act, use_bias=bias))
        if dropout and hidden:
            layers.append(L.Dropout(dropout))
    return keras.Sequential(layers)


def data(n_in, n_out, loss, n=24, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_in))
    if loss == "cce":
        y = np.eye(n_out)[rng.integers(0, n_out, n)]
    elif loss == "bce":
        y = (rng.random((n, n_out)) > 0.5).astype(float)
    else:
        y = rng.random((n, n_out))
    return X, y


def optimizers(name: str, hyper: dict):
    """(torch optimizer callable, Keras optimizer) of the same setting, each written in its own names."""
    lr = hyper.get("learning_rate", 0.01)
    if name == "sgd":
        m = hyper.get("momentum", 0.0)
        return (lambda p: torch.optim.SGD(p, lr=lr, momentum=m)), keras.optimizers.SGD(learning_rate=lr, momentum=m)
    if name == "adam":
        b1, b2, eps = hyper.get("beta_1", 0.9), hyper.get("beta_2", 0.999), hyper.get("epsilon", 1e-7)
        return ((lambda p: torch.optim.Adam(p, lr=lr, betas=(b1, b2), eps=eps)),
                keras.optimizers.Adam(learning_rate=lr, beta_1=b1, beta_2=b2, epsilon=eps))
    raise ValueError(f"pair_zoo: no optimizer pair for {name!r}")


def lesson_pair(lesson):
    """(torch model, Keras model, X, y, compare_models keywords): the lesson's architecture, ported correctly."""
    t_loss, k_loss, logits = LOSSES[lesson.loss]
    bn = ((1 - lesson.batchnorm_momentum, lesson.batchnorm_epsilon) if lesson.batchnorm else None)
    k_bn = dict(momentum=lesson.batchnorm_momentum, epsilon=lesson.batchnorm_epsilon) if lesson.batchnorm else None
    ln = lesson.layernorm_epsilon if lesson.layernorm else None  # one epsilon, written in both
    tm = torch_mlp(lesson.sizes, lesson.activations, bias=lesson.use_bias, batchnorm=bn, dropout=lesson.dropout,
                   logits=logits, layernorm=ln)
    km = keras_mlp(lesson.sizes, lesson.activations, bias=lesson.use_bias, batchnorm=k_bn, dropout=lesson.dropout,
                   layernorm=ln)
    X, y = data(lesson.sizes[0], lesson.sizes[-1], lesson.loss)
    t_opt, k_opt = optimizers(*optimizer_of(lesson))
    return tm, km, X, y, dict(torch_loss=t_loss(), keras_loss=k_loss(), torch_optimizer=t_opt, keras_optimizer=k_opt)
