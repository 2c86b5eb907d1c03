"""Bug zoo, script: the output layer is updated before the error is sent back through it.

W2 -= lr * dW2 comes before dz1 = (dz2 @ W2.T) * ..., so the hidden layer's gradient is computed
with the new W2, not the one the forward pass used. nnparity: W1 and b1 diverge, "already
updated"; the walk names dz1 as the first wrong intermediate.

    nnparity check examples/learners/script_updates_before_backprop.py --lesson circles
"""

import numpy as np

rng = np.random.default_rng(21)
m = 200
inner = rng.normal(0, 0.3, (m // 2, 2))
ring_angle = rng.uniform(0, 2 * np.pi, m // 2)
outer = np.column_stack([np.cos(ring_angle), np.sin(ring_angle)]) * 1.2
X = np.vstack([inner, outer])
y = np.vstack([np.ones((m // 2, 1)), np.zeros((m // 2, 1))])

W1 = rng.standard_normal((2, 8))
b1 = np.zeros((1, 8))
W2 = rng.standard_normal((8, 1)) * 0.5
b2 = np.zeros((1, 1))
lr = 0.1

for epoch in range(1000):
    z1 = X @ W1 + b1
    a1 = np.maximum(z1, 0)
    z2 = a1 @ W2 + b2
    a2 = 1 / (1 + np.exp(-z2))

    dz2 = (a2 - y) / m
    dW2 = a1.T @ dz2
    db2 = dz2.sum(axis=0, keepdims=True)
    W2 -= lr * dW2  # BUG: too early, dz1 below needs the old W2
    b2 -= lr * db2

    dz1 = (dz2 @ W2.T) * (z1 > 0)
    dW1 = X.T @ dz1
    db1 = dz1.sum(axis=0, keepdims=True)
    W1 -= lr * dW1
    b1 -= lr * db1
