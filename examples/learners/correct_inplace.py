"""A two-layer network for the circles lesson: ReLU hidden layer, sigmoid output, binary cross-entropy.

Correct. Style: backward(X, y, learning_rate) computes the gradients and updates in place.

    nnparity check examples/learners/correct_inplace.py:NeuralNetwork --lesson circles
"""

import numpy as np


class NeuralNetwork:
    def __init__(self, input_size, hidden_size, output_size):
        rng = np.random.default_rng(0)
        # He initialization for the ReLU layer
        self.W1 = rng.normal(0, np.sqrt(2 / input_size), (input_size, hidden_size))
        self.b1 = np.zeros((1, hidden_size))
        self.W2 = rng.normal(0, np.sqrt(2 / hidden_size), (hidden_size, output_size))
        self.b2 = np.zeros((1, output_size))

    def forward(self, X):
        self.z1 = X @ self.W1 + self.b1
        self.a1 = np.maximum(0, self.z1)
        self.z2 = self.a1 @ self.W2 + self.b2
        self.a2 = 1 / (1 + np.exp(-self.z2))
        return self.a2

    def backward(self, X, y, learning_rate=0.1):
        m = X.shape[0]
        dz2 = self.a2 - y  # sigmoid + cross-entropy: the derivative simplifies to this
        dW2 = self.a1.T @ dz2 / m
        db2 = np.sum(dz2, axis=0, keepdims=True) / m
        da1 = dz2 @ self.W2.T
        dz1 = da1 * (self.z1 > 0)
        dW1 = X.T @ dz1 / m
        db1 = np.sum(dz1, axis=0, keepdims=True) / m

        self.W2 -= learning_rate * dW2
        self.b2 -= learning_rate * db2
        self.W1 -= learning_rate * dW1
        self.b1 -= learning_rate * db1


if __name__ == "__main__":
    from sklearn.datasets import make_circles

    X, y = make_circles(n_samples=400, noise=0.1, random_state=0)
    y = y.reshape(-1, 1)
    net = NeuralNetwork(2, 8, 1)
    for epoch in range(500):
        p = net.forward(X)
        net.backward(X, y, learning_rate=0.5)
    print("accuracy:", np.mean((net.forward(X) > 0.5) == y))
