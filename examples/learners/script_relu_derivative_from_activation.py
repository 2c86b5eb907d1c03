"""Bug zoo, script: XOR with a ReLU hidden layer whose derivative is read from the activation.

relu'(z) is 1 where z > 0. Written as (a1 >= 0) it is 1 everywhere, because a1 = max(z1, 0) is
never negative, so dead units still pass gradient. nnparity: W1 and b1 diverge, "(a >= 0)".

    nnparity check examples/learners/script_relu_derivative_from_activation.py --lesson xor-relu
"""

import numpy as np

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
y = np.array([0, 1, 1, 0], dtype=float).reshape(4, 1)

np.random.seed(0)
W1 = np.random.normal(0, 0.5, (2, 4))
b1 = np.zeros((1, 4))
W2 = np.random.normal(0, 0.5, (4, 1))
b2 = np.zeros((1, 1))
learning_rate = 0.5

for epoch in range(5000):
    z1 = X @ W1 + b1
    a1 = np.maximum(0, z1)
    z2 = a1 @ W2 + b2
    out = 1 / (1 + np.exp(-z2))
    loss = np.mean((out - y) ** 2)

    d_out = 2 * (out - y) / len(X)
    d_z2 = d_out * out * (1 - out)
    d_a1 = d_z2 @ W2.T
    d_z1 = d_a1 * (a1 >= 0)  # BUG: a1 >= 0 always holds; use z1 > 0

    W2 -= learning_rate * a1.T @ d_z2
    b2 -= learning_rate * d_z2.sum(axis=0, keepdims=True)
    W1 -= learning_rate * X.T @ d_z1
    b1 -= learning_rate * d_z1.sum(axis=0, keepdims=True)
