"""Bug zoo: the hidden bias gradient summed over everything, np.sum(dz1), instead of over the batch.

The result is one number, broadcast to every hidden unit. nnparity: b1 diverges. (b2 happens to
be right: with a single output unit, summing over everything is summing over the batch.)

    nnparity check examples/learners/bias_gradient_summed.py:NeuralNetwork --lesson spiral
"""

import numpy as np


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
        self.a2 = 1 / (1 + np.exp(-self.z2))
        return self.a2

    def backward(self, X, y, learning_rate=0.05):
        m = X.shape[0]
        dz2 = (self.a2 - y) / m
        dW2 = self.a1.T @ dz2
        db2 = np.sum(dz2)
        dz1 = (dz2 @ self.W2.T) * (self.z1 > 0)
        dW1 = X.T @ dz1
        db1 = np.sum(dz1)  # BUG: needs axis=0, one sum per hidden unit
        self.W2 -= learning_rate * dW2
        self.b2 -= learning_rate * db2
        self.W1 -= learning_rate * dW1
        self.b1 -= learning_rate * db1
