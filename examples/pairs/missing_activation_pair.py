"""A missing activation (`nnparity compare examples/pairs/missing_activation_pair.py`): the Keras port's hidden
Dense lost its activation="relu"."""

import numpy as np
import torch
from torch import nn

import keras

torch.manual_seed(0)
torch_model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 1), nn.Sigmoid())
keras_model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(4),
                                keras.layers.Dense(1, activation="sigmoid")])

rng = np.random.default_rng(0)
X = rng.normal(size=(32, 4))
y = (X[:, :1] > 0).astype(float)

torch_loss = nn.BCELoss()
keras_loss = keras.losses.BinaryCrossentropy()
torch_optimizer = lambda params: torch.optim.SGD(params, lr=0.1)  # noqa: E731
keras_optimizer = keras.optimizers.SGD(learning_rate=0.1)
steps = 10
