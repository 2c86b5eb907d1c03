"""The two-hidden-layer spiral network with inverted dropout after each hidden ReLU.

Correct. Each step draws a fresh mask per layer, keeps a unit with probability 1 - p and scales the
kept ones by 1 / (1 - p), as PyTorch and Keras do; the backward pass multiplies by the same mask.
nnparity cannot replay a random draw: it reads each mask back from the variable the loop keeps
(mask1, mask2) and gives the reference the same one.

    nnparity check examples/learners/spiral_dropout_script.py --lesson spiral-dropout
"""

import numpy as np

rng = np.random.default_rng(10)
n = 150
t = np.linspace(0.3, 1.0, n) * 4 * np.pi
arm = np.column_stack([t * np.cos(t), t * np.sin(t)]) / (4 * np.pi)
X = np.vstack([arm, -arm]) + rng.normal(0, 0.03, (2 * n, 2))
y = np.concatenate([np.zeros(n), np.ones(n)]).reshape(-1, 1)
m = X.shape[0]

W1 = rng.normal(0, np.sqrt(2 / 2), (2, 16))
b1 = np.zeros(16)
W2 = rng.normal(0, np.sqrt(2 / 16), (16, 16))
b2 = np.zeros(16)
W3 = rng.normal(0, np.sqrt(2 / 16), (16, 1))
b3 = np.zeros(1)
p = 0.2
lr = 0.05

for epoch in range(2000):
    z1 = X @ W1 + b1
    a1 = np.maximum(0, z1)
    mask1 = (rng.random(a1.shape) >= p) / (1 - p)
    h1 = a1 * mask1
    z2 = h1 @ W2 + b2
    a2 = np.maximum(0, z2)
    mask2 = (rng.random(a2.shape) >= p) / (1 - p)
    h2 = a2 * mask2
    z3 = h2 @ W3 + b3
    a3 = 1 / (1 + np.exp(-z3))

    dz3 = (a3 - y) / m
    dW3 = h2.T @ dz3
    db3 = dz3.sum(axis=0)
    dz2 = (dz3 @ W3.T) * mask2 * (z2 > 0)
    dW2 = h1.T @ dz2
    db2 = dz2.sum(axis=0)
    dz1 = (dz2 @ W2.T) * mask1 * (z1 > 0)
    dW1 = X.T @ dz1
    db1 = dz1.sum(axis=0)

    W3 -= lr * dW3
    b3 -= lr * db3
    W2 -= lr * dW2
    b2 -= lr * db2
    W1 -= lr * dW1
    b1 -= lr * db1
