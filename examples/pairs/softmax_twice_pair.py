"""A softmax applied twice (`nnparity compare examples/pairs/softmax_twice_pair.py`): the torch model ends with
nn.Softmax, and torch's CrossEntropyLoss applies log_softmax to what it is given."""

import numpy as np
import torch
from torch import nn

import keras

torch.manual_seed(0)
torch_model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3), nn.Softmax(dim=1))
keras_model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(16, activation="relu"),
                                keras.layers.Dense(3, activation="softmax")])

rng = np.random.default_rng(0)
X = rng.normal(size=(60, 2))
y = np.eye(3)[rng.integers(0, 3, 60)]  # one-hot rows: torch's CrossEntropyLoss takes them as probabilities

torch_loss = nn.CrossEntropyLoss()
keras_loss = keras.losses.CategoricalCrossentropy()
torch_optimizer = lambda params: torch.optim.SGD(params, lr=0.1)  # noqa: E731
keras_optimizer = keras.optimizers.SGD(learning_rate=0.1)
steps = 10
