"""The spiral network with two hidden layers and batch normalisation before each ReLU.

Correct. Each BatchNorm standardises its layer over the batch, then scales by gamma and shifts
by beta; the backward pass carries the three paths through the batch mean and variance. The Dense
layers before a BatchNorm have no bias (BatchNorm's beta does its job). The running statistics
are kept for inference and are not trained.

    nnparity check examples/learners/spiral_batchnorm_script.py --lesson spiral-batchnorm
"""

import numpy as np

rng = np.random.default_rng(10)
n = 150
t = np.linspace(0.3, 1.0, n) * 4 * np.pi
arm = np.column_stack([t * np.cos(t), t * np.sin(t)]) / (4 * np.pi)
X = np.vstack([arm, -arm]) + rng.normal(0, 0.03, (2 * n, 2))
y = np.concatenate([np.zeros(n), np.ones(n)]).reshape(-1, 1)
m = X.shape[0]

W1 = rng.normal(0, np.sqrt(2 / 2), (2, 16))
gamma1, beta1 = np.ones(16), np.zeros(16)
W2 = rng.normal(0, np.sqrt(2 / 16), (16, 16))
gamma2, beta2 = np.ones(16), np.zeros(16)
W3 = rng.normal(0, np.sqrt(2 / 16), (16, 1))
b3 = np.zeros(1)
running_mean1, running_var1 = np.zeros(16), np.ones(16)
running_mean2, running_var2 = np.zeros(16), np.ones(16)
eps = 1e-5
momentum = 0.9
lr = 0.05


def batchnorm_forward(z, gamma, beta):
    mu = z.mean(axis=0)
    var = z.var(axis=0)
    z_hat = (z - mu) / np.sqrt(var + eps)
    return gamma * z_hat + beta, (z_hat, var, mu)


def batchnorm_backward(dout, gamma, cache):
    z_hat, var, _ = cache
    dgamma = np.sum(dout * z_hat, axis=0)
    dbeta = np.sum(dout, axis=0)
    dz_hat = dout * gamma
    dz = (dz_hat - dz_hat.mean(axis=0) - z_hat * (dz_hat * z_hat).mean(axis=0)) / np.sqrt(var + eps)
    return dz, dgamma, dbeta


for epoch in range(2000):
    z1 = X @ W1
    n1, cache1 = batchnorm_forward(z1, gamma1, beta1)
    a1 = np.maximum(0, n1)
    z2 = a1 @ W2
    n2, cache2 = batchnorm_forward(z2, gamma2, beta2)
    a2 = np.maximum(0, n2)
    z3 = a2 @ W3 + b3
    a3 = 1 / (1 + np.exp(-z3))

    running_mean1 = momentum * running_mean1 + (1 - momentum) * cache1[2]
    running_var1 = momentum * running_var1 + (1 - momentum) * cache1[1]
    running_mean2 = momentum * running_mean2 + (1 - momentum) * cache2[2]
    running_var2 = momentum * running_var2 + (1 - momentum) * cache2[1]

    dz3 = (a3 - y) / m
    dW3 = a2.T @ dz3
    db3 = dz3.sum(axis=0)
    dn2 = (dz3 @ W3.T) * (n2 > 0)
    dz2, dgamma2, dbeta2 = batchnorm_backward(dn2, gamma2, cache2)
    dW2 = a1.T @ dz2
    dn1 = (dz2 @ W2.T) * (n1 > 0)
    dz1, dgamma1, dbeta1 = batchnorm_backward(dn1, gamma1, cache1)
    dW1 = X.T @ dz1

    W3 -= lr * dW3
    b3 -= lr * db3
    W2 -= lr * dW2
    gamma2 -= lr * dgamma2
    beta2 -= lr * dbeta2
    W1 -= lr * dW1
    gamma1 -= lr * dgamma1
    beta1 -= lr * dbeta1
