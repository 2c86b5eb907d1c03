"""Bug zoo: the sigmoid derivative applied to z instead of a.

`sigmoid_derivative(a) = a * (1 - a)` expects the activation; here the hidden layer hands it
the pre-activation z1. nnparity: W1 and b1 diverge (the output layer is right).

    nnparity check examples/learners/sigmoid_derivative_of_z.py:MLP --lesson sigmoid-mlp
"""

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_derivative(a):
    return a * (1 - a)


class MLP:
    def __init__(self, input_size, hidden_size, output_size, lr=0.1):
        self.lr = lr
        self.W1 = np.random.randn(input_size, hidden_size) * 0.5
        self.b1 = np.zeros((1, hidden_size))
        self.W2 = np.random.randn(hidden_size, output_size) * 0.5
        self.b2 = np.zeros((1, output_size))

    def forward(self, X):
        self.z1 = X @ self.W1 + self.b1
        self.a1 = sigmoid(self.z1)
        self.z2 = self.a1 @ self.W2 + self.b2
        self.a2 = sigmoid(self.z2)
        return self.a2

    def backward(self, X, y, output):
        m = X.shape[0]
        dz2 = output - y
        self.dW2 = self.a1.T @ dz2 / m
        self.db2 = np.sum(dz2, axis=0, keepdims=True) / m
        dz1 = (dz2 @ self.W2.T) * sigmoid_derivative(self.z1)  # BUG: should be self.a1
        self.dW1 = X.T @ dz1 / m
        self.db1 = np.sum(dz1, axis=0, keepdims=True) / m

    def update(self):
        self.W1 -= self.lr * self.dW1
        self.b1 -= self.lr * self.db1
        self.W2 -= self.lr * self.dW2
        self.b2 -= self.lr * self.db2
