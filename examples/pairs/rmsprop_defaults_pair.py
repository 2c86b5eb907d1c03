"""RMSprop at each framework's defaults, on mini-batches (`nnparity compare examples/pairs/rmsprop_defaults_pair.py`):
torch.optim.RMSprop(params) against keras.optimizers.RMSprop(), 8 samples a step in order. Three settings differ
(lr, alpha/rho, eps), and where the epsilon is added differs too: no setting changes that one."""

import numpy as np
import torch
from torch import nn

import keras

torch.manual_seed(0)
torch_model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid())
keras_model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="tanh"),
                                keras.layers.Dense(1, activation="sigmoid")])

rng = np.random.default_rng(0)
X = rng.normal(size=(32, 4))
y = (X[:, :1] * X[:, 1:2] > 0).astype(float)

torch_loss = nn.BCELoss()
keras_loss = keras.losses.BinaryCrossentropy()
torch_optimizer = lambda params: torch.optim.RMSprop(params)  # noqa: E731
keras_optimizer = keras.optimizers.RMSprop()
steps = 10
batch_size = 8
