"""Bug zoo: W2 is updated before the error is sent back through it.

The hidden layer's error must use the W2 that produced the output; here it uses the W2 after
its update. nnparity: W1 and b1 diverge.

    nnparity check examples/learners/backprop_through_updated_weights.py:NeuralNetwork --lesson circles
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

    def backward(self, X, y, learning_rate=0.1):
        m = X.shape[0]
        dz2 = (self.a2 - y) / m
        self.W2 -= learning_rate * self.a1.T @ dz2
        self.b2 -= learning_rate * np.sum(dz2, axis=0, keepdims=True)
        dz1 = (dz2 @ self.W2.T) * (self.z1 > 0)  # BUG: self.W2 was just updated
        self.W1 -= learning_rate * X.T @ dz1
        self.b1 -= learning_rate * np.sum(dz1, axis=0, keepdims=True)
