"""A correct port: the spiral lesson's 2-16-1 network in PyTorch and in Keras (`nnparity compare examples/pairs/spiral_pair.py`)."""

import numpy as np
import torch
from torch import nn

import keras

torch.manual_seed(0)
torch_model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid())
keras_model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(16, activation="relu"),
                                keras.layers.Dense(1, activation="sigmoid")])

rng = np.random.default_rng(0)
X = rng.normal(size=(64, 2))
y = (X[:, :1] * X[:, 1:] > 0).astype(float)

torch_loss = nn.BCELoss()
keras_loss = keras.losses.BinaryCrossentropy()
torch_optimizer = lambda params: torch.optim.SGD(params, lr=0.05)  # noqa: E731
keras_optimizer = keras.optimizers.SGD(learning_rate=0.05)
