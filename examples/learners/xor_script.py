"""The XOR lesson as a script: 2 inputs, 2 hidden sigmoid units, 1 sigmoid output, no biases.

Correct. The weights are named for what they connect, and the updates add: the error is taken
as y - output, so error * sigmoid'(output) points downhill and `+=` is gradient descent on
0.5 * sum((output - y)**2). nnparity reads the gradient from what the update did, so the sign
convention is the learner's to choose.

    nnparity check examples/learners/xor_script.py --lesson xor-mse
"""

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_derivative(s):
    # s is already sigmoid(x)
    return s * (1 - s)


X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
y = np.array([[0], [1], [1], [0]])

np.random.seed(42)
weights_input_hidden = np.random.uniform(size=(2, 2))
weights_hidden_output = np.random.uniform(size=(2, 1))
learning_rate = 0.1

for epoch in range(10000):
    hidden_layer_output = sigmoid(np.dot(X, weights_input_hidden))
    output = sigmoid(np.dot(hidden_layer_output, weights_hidden_output))

    error = y - output
    d_output = error * sigmoid_derivative(output)
    error_hidden = d_output.dot(weights_hidden_output.T)
    d_hidden = error_hidden * sigmoid_derivative(hidden_layer_output)

    weights_hidden_output += hidden_layer_output.T.dot(d_output) * learning_rate
    weights_input_hidden += X.T.dot(d_hidden) * learning_rate

    if epoch % 1000 == 0:
        print("epoch", epoch, "error", np.mean(np.abs(error)))

print(output.round(3))
