"""Bug zoo, script: a LayerNorm with Keras's default epsilon, 1e-3, on a lesson that gives 1e-5 to both frameworks.

Right in every formula; the epsilon is the one `keras.layers.LayerNormalization()` uses by default,
while the lesson (like `nn.LayerNorm`) uses 1e-5. The samples near the origin, whose rows of z1
vary least, see it. nnparity: the output and every gradient diverge, the first wrong intermediate
is xhat1, and the cause names both epsilons.

    nnparity check examples/learners/spiral_layernorm_keras_epsilon.py --lesson spiral-layernorm
"""

import numpy as np

rng = np.random.default_rng(10)
n = 150
t = np.linspace(0.0, 1.0, n) * 3 * np.pi
arm = np.column_stack([t * np.cos(t), t * np.sin(t)]) / (3 * np.pi)
X = np.vstack([arm, -arm]) + rng.normal(0, 0.03, (2 * n, 2))
y = np.concatenate([np.zeros(n), np.ones(n)]).reshape(-1, 1)
m = X.shape[0]

W1 = rng.normal(0, np.sqrt(2 / 2), (2, 16))
b1 = np.zeros(16)
gamma1, beta1 = np.ones(16), np.zeros(16)
W2 = rng.normal(0, np.sqrt(2 / 16), (16, 16))
b2 = np.zeros(16)
gamma2, beta2 = np.ones(16), np.zeros(16)
W3 = rng.normal(0, np.sqrt(2 / 16), (16, 1))
b3 = np.zeros(1)
eps = 1e-3  # BUG: Keras's default; the lesson's is 1e-5
lr = 0.05


def layernorm_forward(z, gamma, beta):
    mu = z.mean(axis=1, keepdims=True)
    var = z.var(axis=1, keepdims=True)
    std = np.sqrt(var + eps)
    z_hat = (z - mu) / std
    return gamma * z_hat + beta, (z_hat, std)


def layernorm_backward(dout, gamma, cache):
    z_hat, std = cache
    dgamma = np.sum(dout * z_hat, axis=0)
    dbeta = np.sum(dout, axis=0)
    dz_hat = dout * gamma
    dz = (dz_hat - dz_hat.mean(axis=1, keepdims=True)
          - z_hat * (dz_hat * z_hat).mean(axis=1, keepdims=True)) / std
    return dz, dgamma, dbeta


for epoch in range(2000):
    z1 = X @ W1 + b1
    n1, cache1 = layernorm_forward(z1, gamma1, beta1)
    a1 = np.maximum(0, n1)
    z2 = a1 @ W2 + b2
    n2, cache2 = layernorm_forward(z2, gamma2, beta2)
    a2 = np.maximum(0, n2)
    z3 = a2 @ W3 + b3
    a3 = 1 / (1 + np.exp(-z3))

    dz3 = (a3 - y) / m
    dW3 = a2.T @ dz3
    db3 = dz3.sum(axis=0)
    dn2 = (dz3 @ W3.T) * (n2 > 0)
    dz2, dgamma2, dbeta2 = layernorm_backward(dn2, gamma2, cache2)
    dW2 = a1.T @ dz2
    db2 = dz2.sum(axis=0)
    dn1 = (dz2 @ W2.T) * (n1 > 0)
    dz1, dgamma1, dbeta1 = layernorm_backward(dn1, gamma1, cache1)
    dW1 = X.T @ dz1
    db1 = dz1.sum(axis=0)

    W3 -= lr * dW3
    b3 -= lr * db3
    W2 -= lr * dW2
    b2 -= lr * db2
    gamma2 -= lr * dgamma2
    beta2 -= lr * dbeta2
    W1 -= lr * dW1
    b1 -= lr * db1
    gamma1 -= lr * dgamma1
    beta1 -= lr * dbeta1

    if epoch % 200 == 0:
        loss = -np.mean(y * np.log(a3) + (1 - y) * np.log(1 - a3))
        print(f"epoch {epoch}: loss {loss:.4f}")
