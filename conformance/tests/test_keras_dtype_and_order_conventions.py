"""Three behaviours the twins rely on, each shown to hold and shown to matter (docs/conventions.md).

- Keras float64 needs the dtype policy as well as floatx: a layer built with
  ``set_floatx("float64")`` alone still gets float32 weights.
- A Keras optimizer keeps its learning rate in a variable of the floatx it was made under:
  float32(1e-3) = 0.0010000000474974513 when made under float32, which moves a float64
  weight by a relative 4.7e-8 too much.
- The order of clipping and weight decay: Keras clips, then decays the weight (the old one),
  then updates; torch's loop clips ``.grad`` before ``step()``, which adds its L2 term after.
  Each order is what the reference computes, and the other order is measurably different.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.tests.support import needs
from reference import SGD

from ..compare import assert_agree, compare
from ..tolerances import tolerance

TOL = tolerance("float64")


def test_keras_float64_needs_the_dtype_policy_as_well_as_floatx():
    needs("keras")
    import keras

    old = keras.config.floatx(), keras.config.dtype_policy()
    try:
        keras.config.set_floatx("float32")
        keras.config.set_dtype_policy("float32")
        keras.layers.Dense(1).build((None, 1))  # a layer exists, as in any program that made one
        keras.config.set_floatx("float64")
        alone = keras.layers.Dense(2)
        alone.build((None, 3))
        keras.config.set_dtype_policy("float64")
        both = keras.layers.Dense(2)
        both.build((None, 3))
    finally:
        keras.config.set_floatx(old[0])
        keras.config.set_dtype_policy(old[1])
    assert alone.kernel.dtype == "float32", "set_floatx alone now makes float64 layers: docs/conventions.md is stale"
    assert both.kernel.dtype == "float64"


def test_keras_learning_rate_variable_takes_the_floatx_it_was_made_under():
    needs("keras")
    import keras

    from frameworks.keras_twin import keras_dtype

    with keras_dtype("float32"):
        made_in_float32 = keras.optimizers.SGD(learning_rate=1e-3)
    with keras_dtype("float64"):
        made_in_float64 = keras.optimizers.SGD(learning_rate=1e-3)
        moved = {}
        for name, optimizer in (("float32", made_in_float32), ("float64", made_in_float64)):
            v = keras.Variable(np.ones(1))
            optimizer.apply_gradients([(keras.ops.ones(1, dtype="float64"), v)])
            moved[name] = {"w": 1 - keras.ops.convert_to_numpy(v)}
    assert made_in_float32.learning_rate.dtype == "float32" and made_in_float64.learning_rate.dtype == "float64"
    assert float(made_in_float32.learning_rate.numpy()) == 0.0010000000474974513
    assert_agree(moved["float64"], {"w": np.array([1e-3])}, atol=TOL.atol, rtol=TOL.rtol)
    off = compare(moved["float32"], {"w": np.array([1e-3])}, atol=TOL.atol, rtol=TOL.rtol)
    assert not off.passed and off.max_rel_err == pytest.approx(4.75e-8, rel=0.01)


# ----- the order of clipping and weight decay ---------------------------------------------------------------

P0 = np.array([1.0, -2.0, 0.5])
G = np.array([3.0, 4.0, 0.0])  # norm 5, clipped to 1
LR, WD, C = 0.1, 0.5, 1.0


def keras_step() -> dict:
    import keras

    from frameworks.keras_twin import keras_dtype

    with keras_dtype("float64"):
        v = keras.Variable(P0)
        keras.optimizers.SGD(learning_rate=np.float64(LR), weight_decay=np.float64(WD),
                             clipnorm=np.float64(C)).apply_gradients([(keras.ops.convert_to_tensor(G), v)])
        return {"p": keras.ops.convert_to_numpy(v)}


def torch_step() -> dict:
    import torch

    p = torch.tensor(P0, requires_grad=True)
    p.grad = torch.tensor(G)
    torch.nn.utils.clip_grad_norm_([p], C)
    torch.optim.SGD([p], lr=LR, weight_decay=WD).step()
    return {"p": p.detach().numpy()}


def clipped(g):
    return g * C / max(np.linalg.norm(g), C)


ORDERS = {  # what each framework does, and the order it does not use
    "keras": (lambda: SGD(LR, weight_decay=WD, clipnorm=C, convention="keras"),
              lambda: {"p": (P0 - LR * clipped(G)) * (1 - LR * WD)}, 4.000e-3),  # decay after the update
    "torch": (lambda: SGD(LR, weight_decay=WD, global_clipnorm=C, convention="torch"),
              lambda: {"p": P0 - LR * clipped(G + WD * P0)}, 8.498e-2),  # L2 added before clipping
}


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_clipping_comes_before_weight_decay(framework):
    needs(framework)
    actual = keras_step() if framework == "keras" else torch_step()
    build, other_order, measured = ORDERS[framework]
    params = {"p": P0.copy()}
    build().update(params, {"p": G})
    assert_agree(actual, params, atol=TOL.atol, rtol=TOL.rtol, what=f"{framework}: clip, then weight decay")
    other = compare(actual, other_order(), atol=TOL.atol, rtol=TOL.rtol)
    assert not other.passed and other.max_abs_err == pytest.approx(measured, rel=0.01)
