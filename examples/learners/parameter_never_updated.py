"""Bug zoo: update() forgets the output bias.

backward computes db2, but update() never applies it. nnparity: b2 diverges (it does not change).

    nnparity check examples/learners/parameter_never_updated.py:MLP --lesson sigmoid-mlp
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
        self.dW2 = self.a1.T @ dz2 / m
        self.db2 = np.sum(dz2, axis=0, keepdims=True) / m
        dz1 = (dz2 @ self.W2.T) * self.a1 * (1 - self.a1)
        self.dW1 = X.T @ dz1 / m
        self.db1 = np.sum(dz1, axis=0, keepdims=True) / m

    def update(self):
        self.W1 -= self.lr * self.dW1
        self.b1 -= self.lr * self.db1
        self.W2 -= self.lr * self.dW2
        # BUG: self.b2 -= self.lr * self.db2 is missing
