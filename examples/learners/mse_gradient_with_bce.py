"""Bug zoo: the output error of MSE, (a - y) * sigmoid'(z), used under a cross-entropy loss.

With binary cross-entropy, the sigmoid's derivative cancels and the output error is just a - y.
Keeping the a * (1 - a) factor is the gradient of a different loss. nnparity: every parameter
diverges, and nnparity recognises the MSE delta.

    nnparity check examples/learners/mse_gradient_with_bce.py:NeuralNetwork --lesson circles
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
        dz2 = (self.a2 - y) * self.a2 * (1 - self.a2) / m  # BUG: that is MSE's delta; BCE's is a2 - y
        dW2 = self.a1.T @ dz2
        db2 = np.sum(dz2, axis=0, keepdims=True)
        dz1 = (dz2 @ self.W2.T) * (self.z1 > 0)
        dW1 = X.T @ dz1
        db1 = np.sum(dz1, axis=0, keepdims=True)
        self.W2 -= learning_rate * dW2
        self.b2 -= learning_rate * db2
        self.W1 -= learning_rate * dW1
        self.b1 -= learning_rate * db1
