"""Bug zoo: update() ignores self.lr and uses a learning rate typed into the code.

Training "works", but not with the learning rate the caller chose. nnparity: every gradient
is off by the same factor, and nnparity says the update does not use the learning rate it is given.

    nnparity check examples/learners/hardcoded_learning_rate.py:MLP --lesson sigmoid-mlp
"""

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


class MLP:
    def __init__(self, input_size, hidden_size, output_size, lr=0.1):
        self.lr = lr
        self.W1 = np.random.randn(input_size, hidden_size) * 0.5
        self.b1 = np.zeros((1, hidden_size))
        self.W2 = np.random.randn(hidden_size, output_size) * 0.5
        self.b2 = np.zeros((1, output_size))

    def forward(self, X):
        self.a1 = sigmoid(X @ self.W1 + self.b1)
        self.a2 = sigmoid(self.a1 @ self.W2 + self.b2)
        return self.a2

    def backward(self, X, y, output):
        m = X.shape[0]
        dz2 = output - y
        self.grads = {"W2": self.a1.T @ dz2 / m, "b2": dz2.sum(axis=0, keepdims=True) / m}
        dz1 = (dz2 @ self.W2.T) * self.a1 * (1 - self.a1)
        self.grads["W1"] = X.T @ dz1 / m
        self.grads["b1"] = dz1.sum(axis=0, keepdims=True) / m

    def update(self):
        for name, grad in self.grads.items():
            setattr(self, name, getattr(self, name) - 0.05 * grad)  # BUG: self.lr
