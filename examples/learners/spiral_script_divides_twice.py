"""The spiral script again, with the mean taken twice: a loss that barely moves in 2,000 epochs.

Bug: dL_dz2 is already divided by N (the mean of the loss), and every dL_dW divides by N again.
nnparity: every gradient is 1/200 of the right one, "divided by the batch size twice"; the
intermediates z1 ... dL_dz1 all agree, so the fault is in the lines that make dL_dW and dL_db.

    nnparity check examples/learners/spiral_script_divides_twice.py --lesson spiral
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
losses = []

for epoch in range(2000):
    # forward
    z1 = X @ W1 + b1
    a1 = np.maximum(0, z1)
    z2 = a1 @ W2 + b2
    a2 = 1 / (1 + np.exp(-z2))

    # binary cross-entropy, averaged over the batch
    eps = 1e-12
    loss = -np.mean(y * np.log(a2 + eps) + (1 - y) * np.log(1 - a2 + eps))
    losses.append(loss)

    # backward
    dL_dz2 = (a2 - y) / N
    dL_dW2 = a1.T @ dL_dz2 / N  # BUG: dL_dz2 already carries the 1/N
    dL_db2 = np.sum(dL_dz2, axis=0, keepdims=True) / N
    dL_da1 = dL_dz2 @ W2.T
    dL_dz1 = dL_da1 * (z1 > 0)
    dL_dW1 = X.T @ dL_dz1 / N
    dL_db1 = np.sum(dL_dz1, axis=0, keepdims=True) / N

    # gradient descent
    W1 -= learning_rate * dL_dW1
    b1 -= learning_rate * dL_db1
    W2 -= learning_rate * dL_dW2
    b2 -= learning_rate * dL_db2

    if epoch % 200 == 0:
        print(f"epoch {epoch:4d}  loss {loss:.4f}")

accuracy = np.mean((a2 > 0.5) == y)
print(f"training accuracy: {accuracy:.1%}")
