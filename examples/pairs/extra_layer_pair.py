"""An extra layer (`nnparity compare examples/pairs/extra_layer_pair.py`): the Keras port has one Dense more."""

import numpy as np
import torch
from torch import nn

import keras

torch.manual_seed(0)
torch_model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1), nn.Sigmoid())
keras_model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                                keras.layers.Dense(8, activation="relu", name="extra"),
                                keras.layers.Dense(1, activation="sigmoid")])

rng = np.random.default_rng(0)
X = rng.normal(size=(32, 4))
y = (X[:, :1] > 0).astype(float)

torch_loss = nn.BCELoss()
keras_loss = keras.losses.BinaryCrossentropy()
torch_optimizer = lambda params: torch.optim.SGD(params, lr=0.1)  # noqa: E731
keras_optimizer = keras.optimizers.SGD(learning_rate=0.1)
