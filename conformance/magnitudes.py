"""How large the numbers are that went into each value a check compares.

A floating-point result is exact up to rounding errors of about eps times the
size of the *terms* that made it, not eps times the result: z = x1 w1 + x2 w2
with terms of 1000 that cancel to 0.001 still carries the error of the 1000s,
and tanh'(z) = 1 - a**2 at a saturated a = 1 - 1e-9 is 1e-9 in float64 and
exactly 0 in float32. For lessons drawn at random (inputs up to 1000, saturated
layers), ``compare(..., scale=magnitudes(...))`` holds each element to
``atol * M + rtol * |expected|``, where M is this first-order bound on the size
of what fed it, computed by the reference on absolute values::

    M(a_0)    = |X|
    M(z_l)    = M(a_{l-1}) @ |W_l| + |b_l|              the terms of z_l, each with its own error
    M(a_l)    = |a_l| + |f'(z_l)| * M(z_l)              a_l rounded, plus z_l's error through f
    M(dz_L)   = |dz_L| + c * M(a_L)                     sigmoid + BCE, softmax + CCE: dz_L = c (a_L - y)
                                                        (+ |dz_L| |1 - 2p| M(z_L) where torch's BCE clamps)
    M(da_L)   = |da_L| + |d da_L / d a_L| * M(a_L)      any other loss, then through f_L like any layer:
    M(dz_l)   = M(da_l) * |f'(z_l)| + |da_l| * (1 + |f''(z_l)| * M(z_l))      (f' is rounded too)
    M(da_l-1) = M(dz_l) @ |W_l|.T;   M(dW_l) = M(a_{l-1}).T @ M(dz_l);   M(db_l) = sum_n M(dz_l)
    M(w after a step) = |w| + learning_rate * M(dw)

Softmax mixes a row: its terms use the row's largest M(z) (|da_j/dz_i| <= a_j, twice).
M is in the units of the values; the tolerance's atol supplies eps and the headroom.
No M, at any stage, is below tiny / eps of the dtype: under the smallest normal
number a value underflows to 0 or a subnormal whatever its terms (float32 cannot
hold the 1e-215 that float64 computes for a saturated softmax's gradient), and
TensorFlow on CPU flushes subnormals to 0, so an intermediate's error of up to
tiny is then multiplied by what follows (found by the thorough property run: a
saturated softmax's 4e-43 flushed to 0, times inputs of 30).
"""

from __future__ import annotations

import numpy as np

from reference.losses import TORCH_BCE_GRAD_EPS

# loss -> |d(dL/da)/da|, the bound on how an error in a_L moves dL/da_L (y gives N and k)
LOSS_CURVATURE = {
    "mse": lambda y: 2.0 / y.size,
    "half_sse": lambda y: 1.0,
    "bce_logits": lambda y: 0.25 / y.size,
    "cce_logits": lambda y: 2.0 / len(y),
}
# the probability losses whose gradient through their own activation is c * (a - y)
FUSED_SCALE = {("bce", "sigmoid"): lambda y: 1.0 / y.size, ("cce", "softmax"): lambda y: 1.0 / len(y)}


def _derivatives(activation, a: np.ndarray):
    """(|f'|, |f''|) of an elementwise activation from its output a (None for softmax)."""
    name = activation.name
    table = {
        "sigmoid": lambda: (a * (1 - a), np.abs(a * (1 - a) * (1 - 2 * a))),
        "tanh": lambda: (1 - a * a, np.abs(2 * a * (1 - a * a))),
        "relu": lambda: ((a > 0).astype(float), np.zeros_like(a)),
        "leaky_relu": lambda: (np.where(a > 0, 1.0, activation.slope), np.zeros_like(a)),
        "linear": lambda: (np.ones_like(a), np.zeros_like(a)),
    }
    if name == "softmax":
        return None
    if name not in table:
        raise ValueError(f"magnitudes: no derivative bound for activation {name!r}; add one to _derivatives")
    return table[name]()


def _rowmax(m):
    return m.max(axis=1, keepdims=True) if m.size else m


def forward_magnitudes(model, X, floor: float = 0.0) -> dict[str, np.ndarray]:
    """{"z1": M(z_1), "a1": M(a_1), ...} for a reference MLP after ``model.forward(X)``."""
    out, m_a = {}, np.maximum(np.abs(X), floor)
    for i, (layer, act) in enumerate(zip(model.layers, model.activations), start=1):
        m_z = m_a @ np.abs(layer.kernel) + (np.abs(layer.bias) if layer.bias is not None else 0.0)
        m_z = np.maximum(m_z, floor)
        a = model.a[i]
        d = _derivatives(act, a)
        m_a = np.abs(a) + (2 * np.abs(a) * _rowmax(m_z) if d is None else d[0] * m_z)
        out[f"z{i}"], out[f"a{i}"] = m_z, np.maximum(m_a, floor)
        m_a = out[f"a{i}"]
    return out


def _through_activation(activation, a, m_z, m_a, da, m_da):
    """M(dz) from M(da) through the activation (see the module doc)."""
    d = _derivatives(activation, a)
    if d is None:  # softmax: dz = a * (da - sum(da * a))
        inner = np.abs(da - (da * a).sum(axis=1, keepdims=True))
        return m_a * inner + np.abs(a) * (m_da + (m_da * np.abs(a)).sum(axis=1, keepdims=True)
                                          + (np.abs(da) * m_a).sum(axis=1, keepdims=True))
    first, second = d
    return m_da * first + np.abs(da) * (1 + second * m_z)


def _torch_clamp(model, p: np.ndarray, y: np.ndarray, m_z: np.ndarray):
    """The error torch's BCELoss (unfused: ``convention="torch"``) adds to dz_L where it clamps, else 0.

    dz_L = (p - y) s / max(s, e) / N with s = p (1 - p), e = TORCH_BCE_GRAD_EPS. Where s >= e this is
    (p - y) / N (the fused bound covers it). Where s < e it is (p - y) s / (e N): proportional to s,
    whose relative error is |1 - 2p| times z_L's error (d ln s / dz = 1 - 2p), so it adds
    |dz_L| |1 - 2p| M(z_L). Found on an AVX-only AMD EPYC: p = 4.2e-13, y = 1, z_L = -28.5 made of
    terms of 1000, torch float32's dz_L 3.8e-5 relative from the reference's."""
    if model.fused or getattr(model.loss, "convention", None) != "torch" or model.loss.name != "bce":
        return 0.0
    clamped = p * (1 - p) < TORCH_BCE_GRAD_EPS
    return np.where(clamped, np.abs(model.dz[-1]) * np.abs(1 - 2 * p) * m_z, 0.0)


def gradient_magnitudes(model, X, y, lesson_loss: str, floor: float = 0.0) -> dict[str, np.ndarray]:
    """{"W1": M(dL/dW1), "b1": ..., "X": M(dL/dX)} for a reference MLP after ``model.gradients(X, y)``."""
    fwd = forward_magnitudes(model, X, floor)
    n = len(model.layers)
    last = model.activations[-1].name
    a_L, m_aL = model.a[-1], fwd[f"a{n}"]
    if (lesson_loss, last) in FUSED_SCALE:
        m_dz = (np.abs(model.dz[-1]) + FUSED_SCALE[(lesson_loss, last)](y) * m_aL
                + _torch_clamp(model, a_L, y, fwd[f"z{n}"]))
    else:
        if lesson_loss not in LOSS_CURVATURE:
            raise ValueError(f"magnitudes: no curvature bound for loss {lesson_loss!r} after {last!r}")
        da = model.loss.backward(a_L, y)
        m_da = np.abs(da) + LOSS_CURVATURE[lesson_loss](y) * m_aL
        m_dz = _through_activation(model.activations[-1], a_L, fwd[f"z{n}"], m_aL, da, m_da)
    out = {}
    for i in range(n, 0, -1):
        m_dz = np.maximum(m_dz, floor)
        layer = model.layers[i - 1]
        m_in = np.maximum(np.abs(X), floor) if i == 1 else fwd[f"a{i - 1}"]
        out[f"W{i}"] = m_in.T @ m_dz
        if layer.bias is not None:
            out[f"b{i}"] = m_dz.sum(axis=0)
        m_da = np.maximum(m_dz @ np.abs(layer.kernel).T, floor)
        if i == 1:
            out["X"] = m_da
            break
        da = model.dz[i - 1] @ layer.kernel.T
        m_dz = _through_activation(model.activations[i - 2], model.a[i - 1], fwd[f"z{i - 1}"],
                                   fwd[f"a{i - 1}"], da, m_da)
    return out


# optimizer -> M(w after one step) from |w|, M(g) and the hyper-parameters
STEP_MAGNITUDES = {
    "sgd": lambda w, m_g, hyper: np.abs(w) + hyper["learning_rate"] * m_g,  # w - learning_rate * g
}


def magnitudes(check: str, lesson, model, params: dict, X, y, dtype: str) -> dict[str, np.ndarray]:
    """M of every item ``check`` compares, from a fresh reference ``model`` on (params, X, y)."""
    floor = np.finfo(dtype).tiny / np.finfo(dtype).eps
    if check == "forward":
        model.forward(X)
        out = forward_magnitudes(model, X, floor)
    elif check in ("gradients", "step"):
        model.gradients(X, y)
        out = gradient_magnitudes(model, X, y, lesson.loss, floor)
        if check == "step":
            if lesson.optimizer not in STEP_MAGNITUDES:
                raise ValueError(f"magnitudes: no step bound for optimizer {lesson.optimizer!r}; add one to "
                                 f"STEP_MAGNITUDES")
            bound = STEP_MAGNITUDES[lesson.optimizer]
            out = {k: bound(w, out[k], lesson.hyperparameters) for k, w in params.items()}
    else:
        raise ValueError(f"magnitudes: no bound for check {check!r}")
    return {k: np.maximum(v, floor) for k, v in out.items()}
