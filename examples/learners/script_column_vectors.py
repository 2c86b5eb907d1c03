"""A 4-5-4-1 tanh network written with column vectors: weights (units, inputs), samples in columns.

Correct. W1 is (5, 4) and used as W1 @ X with X of shape (4, m), as in Andrew Ng's course; the
biases are (units, 1). nnparity reads every kernel as (out, in) from the shapes.

    nnparity check examples/learners/script_column_vectors.py --lesson tanh-4-5-4-1
"""

import numpy as np

rng = np.random.default_rng(4)
m = 80
X = rng.normal(size=(4, m))  # one column per sample
Y = (X[0] + X[1] * X[3] > 0).astype(float).reshape(1, m)

sizes = [4, 5, 4, 1]
params = {}
for layer in range(1, 4):
    limit = np.sqrt(6 / (sizes[layer - 1] + sizes[layer]))
    params["W" + str(layer)] = rng.uniform(-limit, limit, (sizes[layer], sizes[layer - 1]))
    params["b" + str(layer)] = np.zeros((sizes[layer], 1))

learning_rate = 0.1
for iteration in range(1000):
    A1 = np.tanh(params["W1"] @ X + params["b1"])
    A2 = np.tanh(params["W2"] @ A1 + params["b2"])
    A3 = 1 / (1 + np.exp(-(params["W3"] @ A2 + params["b3"])))

    dZ3 = (A3 - Y) / m
    dZ2 = (params["W3"].T @ dZ3) * (1 - A2 ** 2)
    dZ1 = (params["W2"].T @ dZ2) * (1 - A1 ** 2)
    grads = {"W3": dZ3 @ A2.T, "b3": dZ3.sum(axis=1, keepdims=True),
             "W2": dZ2 @ A1.T, "b2": dZ2.sum(axis=1, keepdims=True),
             "W1": dZ1 @ X.T, "b1": dZ1.sum(axis=1, keepdims=True)}

    for key in params:
        params[key] -= learning_rate * grads[key]
