"""Bug zoo, script: Adam without its bias correction.

m and v start at zero, so early on they are far too small; Adam divides them by (1 - beta**t) to
undo that. Here the step uses m and v as they are: the first steps are about 3 times too large.
nnparity: the gradients agree (read from m), and every step is "no bias correction".

    nnparity check examples/learners/spiral_script_adam_no_bias_correction.py --lesson spiral --optimizer adam
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

learning_rate = 0.01
beta1, beta2, eps = 0.9, 0.999, 1e-8
params = [W1, b1, W2, b2]
m = [np.zeros_like(p) for p in params]
v = [np.zeros_like(p) for p in params]
t = 0

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

    # Adam
    t += 1
    grads = [dL_dW1, dL_db1, dL_dW2, dL_db2]
    for i in range(4):
        m[i] = beta1 * m[i] + (1 - beta1) * grads[i]
        v[i] = beta2 * v[i] + (1 - beta2) * grads[i] ** 2
        params[i] -= learning_rate * m[i] / (np.sqrt(v[i]) + eps)  # BUG: m and v used without correction
