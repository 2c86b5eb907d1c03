"""Bug zoo, script: targets of shape (N,) against an output of shape (N, 1).

y comes out of the data as a flat vector; a2 - y then broadcasts to a (160, 160) matrix instead
of one error per sample, and NumPy says nothing until a product two lines later fails. nnparity
cannot check a script that raises (exit 2), and says why: the shapes of the arrays the failing
line reads, and that dz2 is (N, N) because y is (N,) against an output of (N, 1).

    nnparity check examples/learners/script_targets_broadcast.py --lesson circles
"""

import numpy as np

rng = np.random.default_rng(12)
n = 160
r = np.concatenate([rng.uniform(0.0, 0.6, n // 2), rng.uniform(0.9, 1.4, n // 2)])
phi = rng.uniform(0, 2 * np.pi, n)
X = np.stack([r * np.cos(phi), r * np.sin(phi)], axis=1)
y = np.concatenate([np.ones(n // 2), np.zeros(n // 2)])  # shape (160,)

W1 = rng.normal(0, 1, (2, 8))
b1 = np.zeros((1, 8))
W2 = rng.normal(0, 0.5, (8, 1))
b2 = np.zeros((1, 1))
lr = 0.1

for epoch in range(1000):
    z1 = X @ W1 + b1
    a1 = np.maximum(z1, 0)
    a2 = 1 / (1 + np.exp(-(a1 @ W2 + b2)))
    dz2 = (a2 - y) / n  # BUG: (160, 1) - (160,) is (160, 160)
    dW2 = a1.T @ dz2
    db2 = dz2.sum(axis=0, keepdims=True)
    dz1 = (dz2 @ W2.T) * (z1 > 0)
    dW1 = X.T @ dz1
    db1 = dz1.sum(axis=0, keepdims=True)
    W2 -= lr * dW2
    b2 -= lr * db2
    W1 -= lr * dW1
    b1 -= lr * db1
