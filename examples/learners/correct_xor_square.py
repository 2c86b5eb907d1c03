"""The classic XOR network: 2-2-1, sigmoid everywhere, no biases, loss 0.5 * sum((output - y)**2).

Correct. W1 is 2 x 2 and used as W1 @ x (rows are hidden units): a square matrix, so its
shape alone cannot say which way round it is used; nnparity finds out by probing forward.

    nnparity check examples/learners/correct_xor_square.py:XorNet --lesson xor-mse
"""

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


class XorNet:
    def __init__(self, n_in=2, n_hidden=2, n_out=1):
        self.W1 = np.random.uniform(size=(n_hidden, n_in))
        self.W2 = np.random.uniform(size=(n_out, n_hidden))

    def forward(self, X):
        self.hidden = sigmoid(self.W1 @ X.T)  # (hidden, N)
        self.out = sigmoid(self.W2 @ self.hidden)  # (1, N)
        return self.out.ravel()

    def backward(self, X, y, learning_rate):
        error = self.out - y.reshape(1, -1)  # no 1/m: the loss is a sum, not a mean
        d_out = error * self.out * (1 - self.out)
        d_hidden = (self.W2.T @ d_out) * self.hidden * (1 - self.hidden)
        self.W2 -= learning_rate * d_out @ self.hidden.T
        self.W1 -= learning_rate * d_hidden @ X
