"""A sigmoid MLP that trains itself with Adam: a class, in the lessons' style, with an optimizer added.

Correct (torch's convention). backward(X, y, learning_rate) computes the gradients, then moves each
parameter with Adam; the moments live in self.m and self.v, keyed by the parameter's name, and
start at zero.

    nnparity check examples/learners/adam_class.py:AdamMLP --lesson sigmoid-mlp --optimizer adam
"""

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


class AdamMLP:
    def __init__(self, input_size, hidden_size, output_size, beta1=0.9, beta2=0.999, eps=1e-8):
        self.W1 = np.random.randn(input_size, hidden_size) * 0.5
        self.b1 = np.zeros((1, hidden_size))
        self.W2 = np.random.randn(hidden_size, output_size) * 0.5
        self.b2 = np.zeros((1, output_size))
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        names = ("W1", "b1", "W2", "b2")
        self.m = {name: np.zeros_like(getattr(self, name)) for name in names}
        self.v = {name: np.zeros_like(getattr(self, name)) for name in names}
        self.t = 0

    def forward(self, X):
        self.a1 = sigmoid(X @ self.W1 + self.b1)
        self.a2 = sigmoid(self.a1 @ self.W2 + self.b2)
        return self.a2

    def backward(self, X, y, learning_rate):
        m = len(X)
        delta2 = (self.a2 - y.reshape(-1, 1)) / m
        delta1 = (delta2 @ self.W2.T) * self.a1 * (1 - self.a1)
        grads = {"W2": self.a1.T @ delta2, "b2": delta2.sum(axis=0, keepdims=True),
                 "W1": X.T @ delta1, "b1": delta1.sum(axis=0, keepdims=True)}
        self.t += 1
        for name, g in grads.items():
            self.m[name] = self.beta1 * self.m[name] + (1 - self.beta1) * g
            self.v[name] = self.beta2 * self.v[name] + (1 - self.beta2) * g ** 2
            m_hat = self.m[name] / (1 - self.beta1 ** self.t)
            v_hat = self.v[name] / (1 - self.beta2 ** self.t)
            setattr(self, name, getattr(self, name) - learning_rate * m_hat / (np.sqrt(v_hat) + self.eps))
