"""A class-based network trained by a loop at the bottom of the file, checked as a script.

Correct. `nnparity check script_with_class.py --lesson circles` (no :ClassName) runs the file
until the loop's first update: the parameters are found as net.W1, net.b1, ... whatever the
class calls them, and the intermediates as self.z1, self.hidden, ...

    nnparity check examples/learners/script_with_class.py --lesson circles
"""

import numpy as np


class TwoLayerNet:
    def __init__(self, n_in, n_hidden, n_out, seed=0):
        rng = np.random.default_rng(seed)
        self.W1 = rng.normal(0, np.sqrt(2 / n_in), (n_in, n_hidden))
        self.b1 = np.zeros(n_hidden)
        self.W2 = rng.normal(0, np.sqrt(2 / n_hidden), (n_hidden, n_out))
        self.b2 = np.zeros(n_out)

    def forward(self, X):
        self.z1 = X @ self.W1 + self.b1
        self.hidden = np.maximum(self.z1, 0)
        self.z2 = self.hidden @ self.W2 + self.b2
        self.prediction = 1 / (1 + np.exp(-self.z2))
        return self.prediction

    def train_step(self, X, y, lr):
        out = self.forward(X)
        self.delta_out = (out - y) / X.shape[0]
        self.delta_hidden = (self.delta_out @ self.W2.T) * (self.z1 > 0)
        self.W2 -= lr * self.hidden.T @ self.delta_out
        self.b2 -= lr * self.delta_out.sum(axis=0)
        self.W1 -= lr * X.T @ self.delta_hidden
        self.b1 -= lr * self.delta_hidden.sum(axis=0)


rng = np.random.default_rng(9)
angle = rng.uniform(0, 2 * np.pi, 240)
radius = np.r_[rng.uniform(0, 0.5, 120), rng.uniform(0.8, 1.2, 120)]
data = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
target = np.r_[np.ones(120), np.zeros(120)].reshape(-1, 1)

net = TwoLayerNet(2, 8, 1)
for epoch in range(1000):
    net.train_step(data, target, lr=0.1)
