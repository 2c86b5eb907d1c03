"""Bug zoo, script: the single neuron with the 2 of the squared error's derivative dropped.

d(p - y)**2 / dp is 2 (p - y); written as (p - y), every gradient is half the right one.
nnparity: both gradients are off by the same factor 0.5, and for a squared-error lesson the cause
names the missing 2; the walk stops at dloss_dprediction, the line with the mistake.

    nnparity check examples/learners/neuron_script_missing_two.py --lesson neuron
"""

import numpy as np

x = np.array([0.5, 0.8])
y = 1.0
w = np.array([0.3, -0.1])
b = 0.2
learning_rate = 0.1


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


for step in range(100):
    z = np.dot(w, x) + b
    prediction = sigmoid(z)
    loss = (prediction - y) ** 2

    dloss_dprediction = prediction - y  # BUG: the derivative of (p - y)**2 is 2 (p - y)
    dprediction_dz = prediction * (1 - prediction)
    dloss_dz = dloss_dprediction * dprediction_dz

    w = w - learning_rate * dloss_dz * x
    b = b - learning_rate * dloss_dz

    if step % 20 == 0:
        print(f"step {step}: prediction {prediction:.4f}, loss {loss:.5f}")
