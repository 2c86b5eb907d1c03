"""The single-neuron lesson as a script: two inputs, one sigmoid neuron, squared error, 100 steps.

Correct. The weights are a vector and the bias a plain number, as the lesson writes them; the
gradient is the chain rule written out step by step.

    nnparity check examples/learners/neuron_script.py --lesson neuron
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

    dloss_dprediction = 2 * (prediction - y)
    dprediction_dz = prediction * (1 - prediction)
    dloss_dz = dloss_dprediction * dprediction_dz

    w = w - learning_rate * dloss_dz * x
    b = b - learning_rate * dloss_dz

    if step % 20 == 0:
        print(f"step {step}: prediction {prediction:.4f}, loss {loss:.5f}")
