"""GELU, approximated on one side (`nnparity compare examples/pairs/gelu_tanh_pair.py`): the torch model uses
nn.GELU(approximate="tanh"), the Keras port activation="gelu", which is exact (keras.ops.gelu would be the
approximation). Even with the same GELU, TensorFlow computes its constants in float32: named, with the adapter."""

import numpy as np
import torch
from torch import nn

import keras

torch.manual_seed(0)
torch_model = nn.Sequential(nn.Linear(4, 16), nn.GELU(approximate="tanh"), nn.Linear(16, 1))
keras_model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="gelu"), keras.layers.Dense(1)])

rng = np.random.default_rng(0)
X = rng.normal(size=(32, 4))
y = np.sin(X[:, :1]) + 0.1 * X[:, 1:2]

torch_loss = nn.MSELoss()
keras_loss = keras.losses.MeanSquaredError()
torch_optimizer = lambda params: torch.optim.SGD(params, lr=0.05)  # noqa: E731
keras_optimizer = keras.optimizers.SGD(learning_rate=0.05)
steps = 10
