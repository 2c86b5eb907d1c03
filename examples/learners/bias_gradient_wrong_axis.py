"""Bug zoo: the bias gradients summed over the units (axis=1) instead of over the batch (axis=0).

`self.b1 = self.b1 - lr * db1` then broadcasts a (300, 1) gradient against a (1, 16) bias, and
the bias silently becomes a (300, 16) matrix. nnparity: b1 and b2 diverge (they change shape).

    nnparity check examples/learners/bias_gradient_wrong_axis.py:NeuralNetwork --lesson sensor
"""

import numpy as np


def softmax(z):
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


class NeuralNetwork:
    def __init__(self, input_size, hidden_size, output_size):
        self.W1 = np.random.randn(input_size, hidden_size) * np.sqrt(2 / input_size)
        self.b1 = np.zeros((1, hidden_size))
        self.W2 = np.random.randn(hidden_size, output_size) * np.sqrt(2 / hidden_size)
        self.b2 = np.zeros((1, output_size))

    def forward(self, X):
        self.z1 = X @ self.W1 + self.b1
        self.a1 = np.maximum(0, self.z1)
        self.z2 = self.a1 @ self.W2 + self.b2
        self.a2 = softmax(self.z2)
        return self.a2

    def backward(self, X, y, learning_rate=0.1):
        m = X.shape[0]
        dz2 = (self.a2 - y) / m
        dW2 = self.a1.T @ dz2
        db2 = np.sum(dz2, axis=1, keepdims=True)  # BUG: axis=0
        dz1 = (dz2 @ self.W2.T) * (self.z1 > 0)
        dW1 = X.T @ dz1
        db1 = np.sum(dz1, axis=1, keepdims=True)  # BUG: axis=0
        self.W2 = self.W2 - learning_rate * dW2
        self.b2 = self.b2 - learning_rate * db2
        self.W1 = self.W1 - learning_rate * dW1
        self.b1 = self.b1 - learning_rate * db1
