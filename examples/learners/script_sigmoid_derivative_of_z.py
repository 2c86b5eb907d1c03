"""Bug zoo, script: a sigmoid MLP on XOR whose hidden derivative is taken of z instead of a.

sigmoid_prime(s) = s * (1 - s) expects s = sigmoid(z), the activation; here it is given z1.
nnparity: W1 and b1 diverge, "applied to z"; the walk shows z1 ... dL/dz2 agreeing and dL/dz1
(delta1, the line that calls sigmoid_prime) as the first wrong intermediate.

    nnparity check examples/learners/script_sigmoid_derivative_of_z.py --lesson sigmoid-mlp
"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(s):
    return s * (1 - s)


X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = np.array([[0.0], [1.0], [1.0], [0.0]])

rng = np.random.default_rng(1)
W1 = rng.normal(0, 0.5, (2, 4))
b1 = np.zeros((1, 4))
W2 = rng.normal(0, 0.5, (4, 1))
b2 = np.zeros((1, 1))
alpha = 0.1

for step in range(5000):
    z1 = X @ W1 + b1
    a1 = sigmoid(z1)
    z2 = a1 @ W2 + b2
    a2 = sigmoid(z2)

    delta2 = (a2 - Y) / len(X)
    delta1 = (delta2 @ W2.T) * sigmoid_prime(z1)  # BUG: should be sigmoid_prime(a1)

    W2 -= alpha * a1.T @ delta2
    b2 -= alpha * delta2.sum(axis=0, keepdims=True)
    W1 -= alpha * X.T @ delta1
    b1 -= alpha * delta1.sum(axis=0, keepdims=True)
