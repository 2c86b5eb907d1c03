"""The spiral network trained with momentum, Keras style: the velocity holds steps, not gradients.

Correct. velocity = momentum * velocity - learning_rate * gradient, then weight += velocity: Keras's
SGD(momentum=...). nnparity reads the gradient from the first velocity (-lr g) and names the
convention.

    nnparity check examples/learners/spiral_script_momentum.py --lesson spiral --optimizer momentum
"""

import numpy as np

np.random.seed(3)

# two spirals, 100 points each, label 0 and label 1
points = 100
angle = np.sqrt(np.random.rand(points)) * 3 * np.pi
radius = 2 * angle + np.pi
spiral_0 = np.column_stack([np.cos(angle) * radius, np.sin(angle) * radius])
spiral_1 = -spiral_0
X = np.vstack([spiral_0, spiral_1]) + np.random.randn(2 * points, 2) * 0.5
X = X / np.abs(X).max()
y = np.concatenate([np.zeros(points), np.ones(points)]).reshape(-1, 1)
N = X.shape[0]

# He initialisation for the ReLU layer
W1 = np.random.randn(2, 16) * np.sqrt(2 / 2)
b1 = np.zeros((1, 16))
W2 = np.random.randn(16, 1) * np.sqrt(2 / 16)
b2 = np.zeros((1, 1))

learning_rate = 0.05
momentum = 0.9
vW1, vb1 = np.zeros_like(W1), np.zeros_like(b1)
vW2, vb2 = np.zeros_like(W2), np.zeros_like(b2)

for epoch in range(2000):
    # forward
    z1 = X @ W1 + b1
    a1 = np.maximum(0, z1)
    z2 = a1 @ W2 + b2
    a2 = 1 / (1 + np.exp(-z2))

    # binary cross-entropy, averaged over the batch
    loss = -np.mean(y * np.log(a2 + 1e-12) + (1 - y) * np.log(1 - a2 + 1e-12))

    # backward
    dL_dz2 = (a2 - y) / N
    dL_dW2 = a1.T @ dL_dz2
    dL_db2 = np.sum(dL_dz2, axis=0, keepdims=True)
    dL_da1 = dL_dz2 @ W2.T
    dL_dz1 = dL_da1 * (z1 > 0)
    dL_dW1 = X.T @ dL_dz1
    dL_db1 = np.sum(dL_dz1, axis=0, keepdims=True)

    # momentum
    vW1 = momentum * vW1 - learning_rate * dL_dW1
    W1 += vW1
    vb1 = momentum * vb1 - learning_rate * dL_db1
    b1 += vb1
    vW2 = momentum * vW2 - learning_rate * dL_dW2
    W2 += vW2
    vb2 = momentum * vb2 - learning_rate * dL_db2
    b2 += vb2
