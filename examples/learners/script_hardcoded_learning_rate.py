"""Bug zoo, script: a learning rate that is set at the top and then not used.

learning_rate = 0.5 is what the learner believes it trains with; the update lines say 0.1. The
gradients are right, but every step is 1/5 of the intended one. nnparity (reading learning_rate
as the script's rate): every gradient is off by the same factor 0.2, "the learning rate".

    nnparity check examples/learners/script_hardcoded_learning_rate.py --lesson sigmoid-mlp
"""

import numpy as np

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
y = np.array([[0], [1], [1], [0]], dtype=float)

np.random.seed(8)
W1 = np.random.randn(2, 4) * 0.5
b1 = np.zeros((1, 4))
W2 = np.random.randn(4, 1) * 0.5
b2 = np.zeros((1, 1))
learning_rate = 0.5

for i in range(3000):
    a1 = 1 / (1 + np.exp(-(X @ W1 + b1)))
    a2 = 1 / (1 + np.exp(-(a1 @ W2 + b2)))
    d2 = (a2 - y) / 4
    d1 = d2 @ W2.T * a1 * (1 - a1)
    W2 -= 0.1 * a1.T @ d2  # BUG: not learning_rate
    b2 -= 0.1 * d2.sum(axis=0, keepdims=True)
    W1 -= 0.1 * X.T @ d1
    b1 -= 0.1 * d1.sum(axis=0, keepdims=True)
