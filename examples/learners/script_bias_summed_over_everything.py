"""Bug zoo, script: the spiral network with the hidden bias gradient summed over every element.

np.sum(dL_dz1) adds up all 200 x 16 entries into one number, which the update then subtracts
from every unit's bias. It should sum over the batch only (axis=0), one number per unit.
nnparity: b1 diverges, "np.sum(dz)"; everything else agrees.

    nnparity check examples/learners/script_bias_summed_over_everything.py --lesson spiral
"""

import numpy as np

rng = np.random.default_rng(5)
n = 100
t = np.linspace(0.25, 1, n) * 3 * np.pi
arm = np.column_stack([t * np.cos(t), t * np.sin(t)]) / (3 * np.pi)
X = np.vstack([arm, -arm]) + rng.normal(0, 0.02, (2 * n, 2))
y = np.r_[np.zeros(n), np.ones(n)][:, None]

W1 = rng.normal(0, 1.0, (2, 16))
b1 = np.zeros(16)
W2 = rng.normal(0, np.sqrt(2 / 16), (16, 1))
b2 = np.zeros(1)
lr = 0.05

for epoch in range(2000):
    z1 = X @ W1 + b1
    a1 = np.maximum(0, z1)
    z2 = a1 @ W2 + b2
    a2 = 1 / (1 + np.exp(-z2))

    dL_dz2 = (a2 - y) / len(X)
    dL_dW2 = a1.T @ dL_dz2
    dL_db2 = np.sum(dL_dz2, axis=0)
    dL_dz1 = (dL_dz2 @ W2.T) * (z1 > 0)
    dL_dW1 = X.T @ dL_dz1
    dL_db1 = np.sum(dL_dz1)  # BUG: sums over the units too

    W1 -= lr * dL_dW1
    b1 -= lr * dL_db1
    W2 -= lr * dL_dW2
    b2 -= lr * dL_db2
