"""Gradient clipping: shrink the gradients before the optimizer uses them.

``grads`` is a dict of arrays named like the parameters (``{"W1": ..., "b1": ...}``).
Three kinds, each under Keras's name; at most one may be set (Keras's rule):

- ``clipvalue=v``: every element is clamped to [-v, v].
- ``clipnorm=c``: each tensor on its own is scaled so that its L2 norm is at most c.
- ``global_clipnorm=c``: all tensors are scaled by one factor so that the norm
  of everything together, sqrt(sum over tensors of sum(g**2)), is at most c.

The norm-based kinds are written differently by the two frameworks
(docs/conventions.md#gradient-clipping), so ``convention`` picks the formula::

    # convention="torch": torch.nn.utils.clip_grad_norm_(params, c)
    coef = min(c / (norm + 1e-6), 1);  g = g * coef        # 1e-6 always added
    # convention="keras": keras optimizers' global_clipnorm / clipnorm
    g = g * c * min(1 / norm, 1 / c)                       # global_clipnorm (no 1e-6)
    g = g * c / max(norm, c)                               # clipnorm (tf.clip_by_norm)

torch has no per-tensor option: its equivalent of ``clipnorm`` is calling
``clip_grad_norm_([p], c)`` on each parameter, so it carries the 1e-6 too.
``clipvalue`` is ``clip_grad_value_(params, v)`` in torch and the same clamp in Keras.

Where it happens: torch clips between ``loss.backward()`` and ``opt.step()``;
Keras clips inside ``apply_gradients``, before weight decay and the update.
Both come to the same order: clip, then weight decay, then the update.
"""

from __future__ import annotations

import numpy as np

CLIPPING = ("clipvalue", "clipnorm", "global_clipnorm")
TORCH_NORM_EPS = 1e-6  # torch.nn.utils.clip_grad_norm_: coef = max_norm / (total_norm + 1e-6)


def check_clipping(owner: str, clipvalue=None, clipnorm=None, global_clipnorm=None) -> dict:
    """The one clipping option set (as {name: float}), or {} for none; refuses bad values."""
    given = {k: v for k, v in zip(CLIPPING, (clipvalue, clipnorm, global_clipnorm)) if v is not None}
    if len(given) > 1:
        raise ValueError(
            f"{owner}: only one of clipvalue, clipnorm and global_clipnorm can be set. "
            f"Received: {', '.join(f'{k}={v}' for k, v in given.items())}"
        )
    for k, v in given.items():
        if not (isinstance(v, (int, float)) and v > 0):
            raise ValueError(f"{owner}: expected a positive {k}. Received: {k}={v!r}")
    return {k: float(v) for k, v in given.items()}


def global_norm(grads: dict[str, np.ndarray]) -> float:
    """sqrt(sum over every tensor of sum(g**2)): the norm of all gradients as one vector."""
    return float(np.sqrt(sum(np.sum(np.square(g)) for g in grads.values())))


def clip_gradients(grads: dict[str, np.ndarray], *, convention: str = "torch", clipvalue=None, clipnorm=None,
                   global_clipnorm=None) -> dict[str, np.ndarray]:
    """The clipped gradients (new arrays; ``grads`` is not changed). No option set: the same arrays."""
    if convention not in ("torch", "keras"):
        raise ValueError(f"clip_gradients: convention must be 'torch' or 'keras'. Received: convention={convention!r}")
    options = check_clipping("clip_gradients", clipvalue, clipnorm, global_clipnorm)
    if "clipvalue" in options:
        v = options["clipvalue"]
        return {k: np.clip(g, -v, v) for k, g in grads.items()}
    if "global_clipnorm" in options:
        c, norm = options["global_clipnorm"], global_norm(grads)
        if convention == "torch":
            scale = min(c / (norm + TORCH_NORM_EPS), 1.0)
        else:
            scale = c * min(1.0 / norm, 1.0 / c) if norm > 0 else 1.0
        return {k: g * scale for k, g in grads.items()}
    if "clipnorm" in options:
        c = options["clipnorm"]
        out = {}
        for k, g in grads.items():
            norm = float(np.sqrt(np.sum(np.square(g))))
            if convention == "torch":
                out[k] = g * min(c / (norm + TORCH_NORM_EPS), 1.0)
            else:
                out[k] = g * c / max(norm, c)
        return out
    return grads
