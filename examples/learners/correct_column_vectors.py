"""The 4-5-4-1 tanh network written the textbook way: weights (out, in), samples as columns, W @ x + b.

Correct. Every W is stored (units, inputs) as PyTorch stores nn.Linear.weight, biases are
columns (units, 1), and the layers are kept in lists; the attributes W1..W3, b1..b3 are the same arrays.

    nnparity check examples/learners/correct_column_vectors.py:DeepNet --lesson tanh-4-5-4-1
"""

import numpy as np


class DeepNet:
    def __init__(self, *sizes, lr=0.1):
        self.lr = lr
        self.n_layers = len(sizes) - 1
        for l in range(1, self.n_layers + 1):
            limit = np.sqrt(6 / (sizes[l - 1] + sizes[l]))  # Xavier uniform
            setattr(self, f"W{l}", np.random.uniform(-limit, limit, (sizes[l], sizes[l - 1])))
            setattr(self, f"b{l}", np.zeros((sizes[l], 1)))

    def forward(self, X):
        A = X.T  # one column per sample
        self.cache = [A]
        for l in range(1, self.n_layers + 1):
            Z = getattr(self, f"W{l}") @ A + getattr(self, f"b{l}")
            A = 1 / (1 + np.exp(-Z)) if l == self.n_layers else np.tanh(Z)
            self.cache.append(A)
        return A.T

    def backward(self, X, y, output):
        m = X.shape[0]
        dZ = (output - y).T / m  # sigmoid output with binary cross-entropy
        self.grads = {}
        for l in range(self.n_layers, 0, -1):
            A_prev = self.cache[l - 1]
            self.grads[f"W{l}"] = dZ @ A_prev.T
            self.grads[f"b{l}"] = dZ.sum(axis=1, keepdims=True)
            if l > 1:
                dZ = (getattr(self, f"W{l}").T @ dZ) * (1 - A_prev ** 2)  # tanh' = 1 - tanh^2

    def update(self):
        for name, grad in self.grads.items():
            setattr(self, name, getattr(self, name) - self.lr * grad)
