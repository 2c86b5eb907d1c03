"""The perceptron lesson as a script: learn AND one sample at a time with the perceptron rule.

Correct. Each sample updates the weights at once (w += lr * error * x), so the first update comes
after the first sample: nnparity judges that one step, from that sample. The perceptron rule is
gradient descent on 0.5 * (prediction - target)**2 with the step's derivative taken as 1.

    nnparity check examples/learners/perceptron_script.py --lesson perceptron-and
"""

import numpy as np

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
y = np.array([0, 0, 0, 1])

weights = np.zeros(2)
bias = 0.0
lr = 0.01


def step(z):
    return 1 if z >= 0 else 0


for epoch in range(20):
    mistakes = 0
    for xi, target in zip(X, y):
        prediction = step(np.dot(weights, xi) + bias)
        error = target - prediction
        weights += lr * error * xi
        bias += lr * error
        mistakes += int(error != 0)
    if mistakes == 0:
        print(f"converged after {epoch + 1} epochs")
        break

print("weights", weights, "bias", bias)
