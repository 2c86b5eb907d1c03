"""Bug zoo: the ReLU derivative computed from the activation as (a >= 0).

a = max(0, z) is never negative, so (a >= 0) is 1 everywhere: the hidden layer passes every
gradient through, even where the unit was off. nnparity: W1 and b1 diverge.

    nnparity check examples/learners/relu_derivative_from_activation.py:NeuralNetwork --lesson circles
"""

import numpy as np


def relu(x):
    return np.maximum(0, x)


def relu_derivative(x):
    return (x >= 0).astype(float)


class NeuralNetwork:
    def __init__(self, input_size, hidden_size, output_size):
        self.W1 = np.random.randn(input_size, hidden_size) * np.sqrt(2 / input_size)
        self.b1 = np.zeros((1, hidden_size))
        self.W2 = np.random.randn(hidden_size, output_size) * np.sqrt(2 / hidden_size)
        self.b2 = np.zeros((1, output_size))

    def forward(self, X):
        self.a1 = relu(X @ self.W1 + self.b1)
        self.a2 = 1 / (1 + np.exp(-(self.a1 @ self.W2 + self.b2)))
        return self.a2

    def backward(self, X, y, learning_rate=0.1):
        m = X.shape[0]
        dz2 = self.a2 - y
        dW2 = self.a1.T @ dz2 / m
        db2 = np.sum(dz2, axis=0, keepdims=True) / m
        dz1 = (dz2 @ self.W2.T) * relu_derivative(self.a1)  # BUG: from a, with >=; use z1 > 0
        dW1 = X.T @ dz1 / m
        db1 = np.sum(dz1, axis=0, keepdims=True) / m
        self.W2 -= learning_rate * dW2
        self.b2 -= learning_rate * db2
        self.W1 -= learning_rate * dW1
        self.b1 -= learning_rate * db1
