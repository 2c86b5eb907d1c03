"""Bug zoo, script: a 3-class softmax network whose softmax normalises each column, not each row.

Each sample's probabilities should sum to 1 over its classes (axis=1). Summing over axis=0 makes
each class's probabilities sum to 1 over the batch. nnparity: the forward pass diverges, the
output's "columns sum to 1", and the walk shows z1, a1 and z2 agreeing and probs as the first
wrong intermediate.

    nnparity check examples/learners/script_softmax_over_batch.py --lesson sensor
"""

import numpy as np

rng = np.random.default_rng(2)
temperature = rng.normal(0, 1, 150)
vibration = rng.normal(0, 1, 150)
X = np.column_stack([temperature, vibration])
labels = np.where(temperature > 0.5, 2, np.where(vibration > 0, 1, 0))
Y = np.eye(3)[labels]

W1 = rng.normal(0, np.sqrt(2 / 2), (2, 16))
b1 = np.zeros(16)
W2 = rng.normal(0, np.sqrt(2 / 16), (16, 3))
b2 = np.zeros(3)
lr = 0.1

for epoch in range(300):
    z1 = X @ W1 + b1
    a1 = np.maximum(0, z1)
    z2 = a1 @ W2 + b2
    exp_scores = np.exp(z2 - z2.max())
    probs = exp_scores / exp_scores.sum(axis=0, keepdims=True)  # BUG: axis=1

    dz2 = (probs - Y) / len(X)
    dW2 = a1.T @ dz2
    db2 = dz2.sum(axis=0)
    dz1 = dz2 @ W2.T * (z1 > 0)
    dW1 = X.T @ dz1
    db1 = dz1.sum(axis=0)

    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2
