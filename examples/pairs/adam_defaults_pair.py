"""A port that trains differently: Adam at each framework's defaults (`nnparity compare examples/pairs/adam_defaults_pair.py`)."""

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
y = (X.sum(axis=1, keepdims=True) > 0).astype(float)

torch_loss = nn.BCELoss()
keras_loss = keras.losses.BinaryCrossentropy()
torch_optimizer = lambda params: torch.optim.Adam(params)  # noqa: E731  (eps=1e-8)
keras_optimizer = keras.optimizers.Adam()  # epsilon=1e-7
steps = 10
