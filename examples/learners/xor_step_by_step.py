"""The XOR lesson step by step: one function per stage, called from a training loop.

Correct. forward_pass, backward_pass and update_weights are the lesson's exercises; the loop at
the bottom wires them together. update_weights changes the arrays it is given in place.

    nnparity check examples/learners/xor_step_by_step.py --lesson xor-mse
"""

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_derivative(s):
    return s * (1 - s)


def forward_pass(X, weights_input_hidden, weights_hidden_output):
    hidden = sigmoid(X @ weights_input_hidden)
    output = sigmoid(hidden @ weights_hidden_output)
    return hidden, output


def backward_pass(X, y, hidden, output, weights_hidden_output):
    """The steps downhill for both weight matrices (error = y - output, so they are added)."""
    error = y - output
    output_delta = error * sigmoid_derivative(output)
    hidden_delta = (output_delta @ weights_hidden_output.T) * sigmoid_derivative(hidden)
    step_hidden_output = hidden.T @ output_delta
    step_input_hidden = X.T @ hidden_delta
    return step_input_hidden, step_hidden_output


def update_weights(weights_input_hidden, weights_hidden_output, step_input_hidden, step_hidden_output, lr):
    weights_input_hidden += lr * step_input_hidden
    weights_hidden_output += lr * step_hidden_output


def train(X, y, epochs=10000, lr=0.1):
    np.random.seed(42)
    weights_input_hidden = np.random.uniform(size=(2, 2))
    weights_hidden_output = np.random.uniform(size=(2, 1))
    for epoch in range(epochs):
        hidden, output = forward_pass(X, weights_input_hidden, weights_hidden_output)
        steps = backward_pass(X, y, hidden, output, weights_hidden_output)
        update_weights(weights_input_hidden, weights_hidden_output, *steps, lr)
        if epoch % 2000 == 0:
            print(f"epoch {epoch}: loss {0.5 * np.sum((output - y) ** 2):.4f}")
    return weights_input_hidden, weights_hidden_output


if __name__ == "__main__":
    inputs = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    targets = np.array([[0.0], [1.0], [1.0], [0.0]])
    train(inputs, targets)
