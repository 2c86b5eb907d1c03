"""How each framework computes a cross-entropy on the probabilities its last activation made.

BCE after a sigmoid and categorical CE after a softmax can be computed from the
probabilities ``a_L`` or from the logits ``z_L``. The numbers agree while the
outputs are not saturated; at a saturated output (a logit of +-40, a probability
of exactly 0 or 1) they do not, and each framework has its own convention
(measured in docs/conventions.md#cross-entropy and in ``conformance/test_edges.py``)::

    loss  framework     computes                                          reference
    bce   torch         nn.BCELoss(sigmoid(z)): log clamped at -100       BCE(convention="torch"), unfused
    bce   keras         the logits the sigmoid attached (_keras_logits)   fused: BCE-with-logits
    bce   keras-jax     p clipped to [1e-7, 1 - 1e-7] (no logits on JAX)  BCE(convention="keras"), unfused
    bce   keras-torch   p clipped to [1e-7, 1 - 1e-7], then torch BCE     BCE(convention="keras"), unfused
    cce   torch         nn.CrossEntropyLoss(z): from the logits           fused: CCE-with-logits
    cce   keras         the logits the softmax attached                   fused
    cce   keras-jax     p / sum(p), clipped                               CCE(convention="keras"), unfused
    cce   keras-torch   p / sum(p), clipped                               CCE(convention="keras"), unfused

Only Keras's TensorFlow backend reads ``_keras_logits`` (keras/src/backend/tensorflow/nn.py);
the JAX and torch backends clip the probabilities. Keras clips in the tensor's dtype,
so a float32 model clips at 1 - 1.19e-7 (``reference.losses.keras_clip_range``).
"""

from __future__ import annotations

from reference import LOSSES, Loss

# loss -> framework -> (convention on probabilities, whether the logits are used when the
# last activation is the loss's own: sigmoid for bce, softmax for cce)
CONVENTIONS: dict[str, dict[str, tuple[str, bool]]] = {
    "bce": {
        "torch": ("torch", False),
        "keras": ("keras", True),
        "keras-jax": ("keras", False),
        "keras-torch": ("keras", False),
    },
    "cce": {
        "torch": ("torch", True),
        "keras": ("keras", True),
        "keras-jax": ("keras", False),
        "keras-torch": ("keras", False),
    },
}


def reference_loss(loss: str, framework: str | None, dtype: str = "float64") -> tuple[Loss | str, bool]:
    """(the reference's loss, fuse) that computes ``loss`` the way ``framework`` does in ``dtype``.

    Losses without a convention (mse, half_sse, the logits losses), and ``framework=None``,
    give the reference's own choice: the name, fused when it can be.
    """
    by_framework = CONVENTIONS.get(loss)
    if by_framework is None or framework is None:
        return loss, True
    if framework not in by_framework:
        raise ValueError(f"no {loss} convention recorded for framework {framework!r}; "
                         f"expected one of {sorted(by_framework)} (conformance/loss_conventions.py)")
    convention, fuse = by_framework[framework]
    return LOSSES[loss](convention=convention, clip_dtype=dtype), fuse


def uses_probabilities(loss: str, framework: str, last_activation: str) -> bool:
    """True when ``framework`` computes ``loss`` from the probabilities (not the logits)."""
    by_framework = CONVENTIONS.get(loss)
    if by_framework is None:
        return False
    _, fuse = by_framework[framework]
    return not (fuse and LOSSES[loss].fused_activation == last_activation)
