"""A sigmoid MLP with a separate update step (the sigmoid-mlp lesson: 2-4-1, sigmoid everywhere, BCE).

Correct. Style: backward(X, y, output) stores the gradients, update() applies them with self.lr.

    nnparity check examples/learners/correct_update.py:MLP --lesson sigmoid-mlp
"""

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_derivative(a):
    """The derivative of sigmoid, written in terms of its output a = sigmoid(z)."""
    return a * (1 - a)


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
        m = len(X)
        error = output - y.reshape(-1, 1)
        self.dW2 = self.a1.T @ error / m
        self.db2 = error.sum(axis=0, keepdims=True) / m
        hidden_error = (error @ self.W2.T) * sigmoid_derivative(self.a1)
        self.dW1 = X.T @ hidden_error / m
        self.db1 = hidden_error.sum(axis=0, keepdims=True) / m

    def update(self):
        self.W1 -= self.lr * self.dW1
        self.b1 -= self.lr * self.db1
        self.W2 -= self.lr * self.dW2
        self.b2 -= self.lr * self.db2

    def fit(self, X, y, epochs=1000):
        for epoch in range(epochs):
            output = self.forward(X)
            self.backward(X, y, output)
            self.update()
            if epoch % 200 == 0:
                print(f"epoch {epoch}: loss {np.mean((output - y) ** 2):.4f}")
