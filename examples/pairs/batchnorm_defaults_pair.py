"""BatchNorm at each framework's defaults (`nnparity compare examples/pairs/batchnorm_defaults_pair.py`):
torch BatchNorm1d(momentum=0.1, eps=1e-5) against Keras BatchNormalization(momentum=0.99, epsilon=1e-3)."""

import numpy as np
import torch
from torch import nn

import keras

torch.manual_seed(0)
torch_model = nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid())
keras_model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(16), keras.layers.BatchNormalization(),
                                keras.layers.Activation("relu"), keras.layers.Dense(1, activation="sigmoid")])

rng = np.random.default_rng(0)
X = rng.normal(size=(64, 2))
y = (X[:, :1] * X[:, 1:] > 0).astype(float)

torch_loss = nn.BCELoss()
keras_loss = keras.losses.BinaryCrossentropy()
torch_optimizer = lambda params: torch.optim.SGD(params, lr=0.05)  # noqa: E731
keras_optimizer = keras.optimizers.SGD(learning_rate=0.05)
steps = 10
