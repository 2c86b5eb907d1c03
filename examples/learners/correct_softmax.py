"""The sensor classifier: 2 inputs, 16 ReLU units, 3 classes with softmax and categorical cross-entropy.

Correct. Biases are flat vectors of shape (n,). y is one-hot, shape (N, 3).

    nnparity check examples/learners/correct_softmax.py:SensorNet --lesson sensor
"""

import numpy as np


def softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)  # for numerical stability
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


class SensorNet:
    def __init__(self, n_inputs, n_hidden, n_classes):
        self.W1 = np.random.randn(n_inputs, n_hidden) * np.sqrt(2.0 / n_inputs)
        self.b1 = np.zeros(n_hidden)
        self.W2 = np.random.randn(n_hidden, n_classes) * np.sqrt(2.0 / n_hidden)
        self.b2 = np.zeros(n_classes)

    def forward(self, X):
        self.X = X
        self.h = np.maximum(X @ self.W1 + self.b1, 0)
        self.probs = softmax(self.h @ self.W2 + self.b2)
        return self.probs

    def backward(self, X, y, learning_rate):
        n = X.shape[0]
        dlogits = (self.probs - y) / n  # softmax + cross-entropy
        dW2 = self.h.T @ dlogits
        db2 = dlogits.sum(axis=0)
        dh = dlogits @ self.W2.T
        dh[self.h <= 0] = 0  # ReLU lets the gradient through only where it was active
        dW1 = X.T @ dh
        db1 = dh.sum(axis=0)
        for param, grad in ((self.W1, dW1), (self.b1, db1), (self.W2, dW2), (self.b2, db2)):
            param -= learning_rate * grad
