"""A class on the LayerNorm lesson: Dense, LayerNorm and ReLU twice, then a sigmoid output.

Correct. Each LayerNorm's scale and shift are attributes named gamma1, beta1, gamma2, beta2, beside
W1, b1, W2, b2, W3, b3: nnparity finds them by those names, gives them the lesson's canonical values
and reads their gradients back from the update, as it does W and b's.

    nnparity check examples/learners/layernorm_class.py:LayerNormNet --lesson spiral-layernorm
"""

import numpy as np


class LayerNormNet:
    def __init__(self, n_in, n_hidden1, n_hidden2, n_out):
        rng = np.random.default_rng(0)
        self.W1 = rng.normal(0, np.sqrt(2 / n_in), (n_in, n_hidden1))
        self.b1 = np.zeros(n_hidden1)
        self.gamma1, self.beta1 = np.ones(n_hidden1), np.zeros(n_hidden1)
        self.W2 = rng.normal(0, np.sqrt(2 / n_hidden1), (n_hidden1, n_hidden2))
        self.b2 = np.zeros(n_hidden2)
        self.gamma2, self.beta2 = np.ones(n_hidden2), np.zeros(n_hidden2)
        self.W3 = rng.normal(0, np.sqrt(2 / n_hidden2), (n_hidden2, n_out))
        self.b3 = np.zeros(n_out)
        self.eps = 1e-5

    def layernorm(self, z, gamma, beta):
        mu = z.mean(axis=1, keepdims=True)
        std = np.sqrt(z.var(axis=1, keepdims=True) + self.eps)
        z_hat = (z - mu) / std
        return gamma * z_hat + beta, z_hat, std

    def layernorm_backward(self, dout, gamma, z_hat, std):
        dgamma = np.sum(dout * z_hat, axis=0)
        dbeta = np.sum(dout, axis=0)
        dz_hat = dout * gamma
        dz = (dz_hat - dz_hat.mean(axis=1, keepdims=True)
              - z_hat * (dz_hat * z_hat).mean(axis=1, keepdims=True)) / std
        return dz, dgamma, dbeta

    def forward(self, X):
        self.z1 = X @ self.W1 + self.b1
        self.n1, self.h1, self.std1 = self.layernorm(self.z1, self.gamma1, self.beta1)
        self.a1 = np.maximum(0, self.n1)
        self.z2 = self.a1 @ self.W2 + self.b2
        self.n2, self.h2, self.std2 = self.layernorm(self.z2, self.gamma2, self.beta2)
        self.a2 = np.maximum(0, self.n2)
        self.z3 = self.a2 @ self.W3 + self.b3
        self.a3 = 1 / (1 + np.exp(-self.z3))
        return self.a3

    def backward(self, X, y, learning_rate):
        m = X.shape[0]
        dz3 = (self.a3 - y) / m
        dW3, db3 = self.a2.T @ dz3, dz3.sum(axis=0)
        dn2 = (dz3 @ self.W3.T) * (self.n2 > 0)
        dz2, dgamma2, dbeta2 = self.layernorm_backward(dn2, self.gamma2, self.h2, self.std2)
        dW2, db2 = self.a1.T @ dz2, dz2.sum(axis=0)
        dn1 = (dz2 @ self.W2.T) * (self.n1 > 0)
        dz1, dgamma1, dbeta1 = self.layernorm_backward(dn1, self.gamma1, self.h1, self.std1)
        dW1, db1 = X.T @ dz1, dz1.sum(axis=0)
        for name, grad in (("W1", dW1), ("b1", db1), ("gamma1", dgamma1), ("beta1", dbeta1),
                           ("W2", dW2), ("b2", db2), ("gamma2", dgamma2), ("beta2", dbeta2),
                           ("W3", dW3), ("b3", db3)):
            setattr(self, name, getattr(self, name) - learning_rate * grad)
