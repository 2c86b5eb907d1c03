"""Bug zoo, script: a 4-5-4-1 tanh network that climbs the loss instead of descending it.

The gradients are right (dL/dz3 = (a3 - y) / m), but every update adds them. nnparity: every
parameter diverges by exactly -1, "the wrong sign"; every intermediate of the walk agrees.

    nnparity check examples/learners/script_update_wrong_sign.py --lesson tanh-4-5-4-1
"""

import numpy as np

rng = np.random.default_rng(11)
X = rng.normal(size=(64, 4))
y = (X[:, 0] * X[:, 1] + X[:, 2] > 0).astype(float).reshape(-1, 1)


def xavier(n_in, n_out):
    limit = np.sqrt(6 / (n_in + n_out))
    return rng.uniform(-limit, limit, (n_in, n_out))


W1, b1 = xavier(4, 5), np.zeros(5)
W2, b2 = xavier(5, 4), np.zeros(4)
W3, b3 = xavier(4, 1), np.zeros(1)
lr = 0.1

for epoch in range(500):
    a1 = np.tanh(X @ W1 + b1)
    a2 = np.tanh(a1 @ W2 + b2)
    a3 = 1 / (1 + np.exp(-(a2 @ W3 + b3)))

    dz3 = (a3 - y) / len(X)
    dz2 = (dz3 @ W3.T) * (1 - a2 ** 2)
    dz1 = (dz2 @ W2.T) * (1 - a1 ** 2)

    W3 += lr * a2.T @ dz3  # BUG: these are gradients of the loss, so subtract them
    b3 += lr * dz3.sum(axis=0)
    W2 += lr * a1.T @ dz2
    b2 += lr * dz2.sum(axis=0)
    W1 += lr * X.T @ dz1
    b1 += lr * dz1.sum(axis=0)
