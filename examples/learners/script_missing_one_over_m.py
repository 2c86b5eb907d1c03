"""Bug zoo, script: the circles lesson with gradients summed over the batch, never averaged.

The loss is the mean cross-entropy, so dL/dz2 is (a2 - y) / m. Here it is a2 - y, and every
gradient comes out m = 300 times too large. nnparity: every parameter diverges, each by exactly
the batch size, "a missing 1/m"; the walk shows dL/dz2 kept without its 1/m.

    nnparity check examples/learners/script_missing_one_over_m.py --lesson circles
"""

import numpy as np

rng = np.random.default_rng(7)
m = 300
angles = rng.uniform(0, 2 * np.pi, m)
radii = np.where(np.arange(m) < m // 2, 0.5, 1.0) + rng.normal(0, 0.08, m)
X = np.column_stack([radii * np.cos(angles), radii * np.sin(angles)])
y = (np.arange(m) < m // 2).astype(float).reshape(-1, 1)  # 1 = inner circle

W1 = rng.normal(0, np.sqrt(2 / 2), size=(2, 8))
b1 = np.zeros(8)
W2 = rng.normal(0, np.sqrt(2 / 8), size=(8, 1))
b2 = np.zeros(1)
lr = 0.1

for epoch in range(1000):
    z1 = X @ W1 + b1
    h = np.maximum(z1, 0)
    z2 = h @ W2 + b2
    p = 1 / (1 + np.exp(-z2))

    dz2 = p - y  # BUG: the mean's 1/m is missing
    dW2 = h.T @ dz2
    db2 = dz2.sum(axis=0)
    dz1 = (dz2 @ W2.T) * (z1 > 0)
    dW1 = X.T @ dz1
    db1 = dz1.sum(axis=0)

    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2
