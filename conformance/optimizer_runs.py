"""An optimizer of torch, of Keras and of the reference stepped on the same gradients, step by step.

The lessons' optimizers run inside the twins (``checks/step_level.py``); the rest
(NAdam, Adamax, AMSGrad, Adadelta, the adapters of ``frameworks/keras_adapters.py``, a
construction that ``nnparity translate`` reads) are compared here, on one small
problem whose gradient is a function of the parameters, so that every step sees
the gradient of where the previous step left it (a trajectory, not one formula)::

    g = scale * (p - target)        per parameter; scale 1 for W, 1e-4 for b

The second parameter's gradients are small (1e-4 to 1e-5), where an epsilon added
in one place or another matters. The gradient is computed in float64 NumPy for all three;
each framework then applies its own optimizer to it, in the dtype asked for.
"""

from __future__ import annotations

import numpy as np

SCALES = {"W": 1.0, "b": 1e-4}


def problem(dtype: str = "float64") -> tuple[dict, dict]:
    """(starting parameters, targets): fixed numbers (seed 0), in ``dtype``."""
    rng = np.random.default_rng(0)
    start = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    target = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    return ({k: v.astype(dtype) for k, v in start.items()}, {k: v.astype(dtype) for k, v in target.items()})


def gradients(params: dict, target: dict) -> dict:
    """``scale * (p - target)`` for every parameter, in float64."""
    return {k: SCALES[k] * (np.asarray(p, dtype=np.float64) - target[k]) for k, p in params.items()}


def reference_steps(optimizer, steps: int, dtype: str = "float64") -> list[dict]:
    """The parameters after each of ``steps`` steps of a reference optimizer (an ``Optimizer`` instance)."""
    params, target = problem(dtype)
    params = {k: v.astype(np.float64) for k, v in params.items()}
    out = []
    for _ in range(steps):
        optimizer.update(params, gradients(params, target))
        out.append({k: v.copy() for k, v in params.items()})
    return out


def torch_steps(make, steps: int, dtype: str = "float64") -> list[dict]:
    """The same with ``make(parameters)``, a ``torch.optim`` optimizer over torch tensors."""
    import torch

    start, target = problem(dtype)
    params = {k: torch.tensor(v, requires_grad=True) for k, v in start.items()}
    optimizer = make(list(params.values()))
    out = []
    for _ in range(steps):
        grads = gradients({k: p.detach().numpy() for k, p in params.items()}, target)
        for k, p in params.items():
            p.grad = torch.tensor(grads[k], dtype=p.dtype)
        optimizer.step()
        out.append({k: p.detach().numpy().astype(np.float64) for k, p in params.items()})
    return out


def keras_steps(make, steps: int, dtype: str = "float64") -> list[dict]:
    """The same with ``make()``, a ``keras.optimizers`` optimizer, made and applied under ``dtype``
    (floatx and the dtype policy both: docs/conventions.md#keras-float64)."""
    import keras

    from frameworks.keras_twin import keras_dtype

    start, target = problem(dtype)
    with keras_dtype(dtype):
        params = {k: keras.Variable(v, dtype=dtype, name=k) for k, v in start.items()}
        optimizer = make()
        out = []
        for _ in range(steps):
            grads = gradients({k: keras.ops.convert_to_numpy(p) for k, p in params.items()}, target)
            optimizer.apply_gradients([(keras.ops.convert_to_tensor(grads[k], dtype=dtype), p)
                                       for k, p in params.items()])
            out.append({k: keras.ops.convert_to_numpy(p).astype(np.float64) for k, p in params.items()})
    return out


def largest_gap(run: list[dict], other: list[dict]) -> list[float]:
    """max |run - other| over every parameter, after each step."""
    return [max(float(np.max(np.abs(a[k] - b[k]))) for k in a) for a, b in zip(run, other, strict=True)]


# The reference's Keras names -> torch's keyword arguments (beta_1 and beta_2 become betas).
TORCH_NAMES = {"learning_rate": "lr", "epsilon": "eps", "rho": "rho", "weight_decay": "weight_decay",
               "momentum_decay": "momentum_decay"}
TORCH_CLASSES = {"nadam": ("NAdam", {}), "adamax": ("Adamax", {}), "amsgrad": ("Adam", {"amsgrad": True}),
                 "adadelta": ("Adadelta", {})}
KERAS_CLASSES = {"nadam": ("Nadam", {}), "adamax": ("Adamax", {}), "amsgrad": ("Adam", {"amsgrad": True}),
                 "adadelta": ("Adadelta", {})}


def torch_optimizer(name: str, hyper: dict):
    """``make(parameters)``: torch's optimizer ``name`` (a key of ``TORCH_CLASSES``) with ``hyper`` (Keras's names)."""
    import torch

    cls, fixed = TORCH_CLASSES[name]
    kwargs = {TORCH_NAMES[k]: v for k, v in hyper.items() if k not in ("beta_1", "beta_2")}
    if "beta_1" in hyper:
        kwargs["betas"] = (hyper["beta_1"], hyper["beta_2"])
    return lambda params: getattr(torch.optim, cls)(params, **fixed, **kwargs)


def keras_optimizer(name: str, hyper: dict, dtype: str = "float64"):
    """``make()``: Keras's optimizer ``name`` with ``hyper``, every number as ``dtype`` (a Python float would be
    rounded through float32 in a float64 run: docs/conventions.md#float32-casts). Keras's Nadam has no
    ``momentum_decay``: 1.0 (what it computes) is dropped, any other value passed on (and refused by Keras)."""
    import keras

    cls, fixed = KERAS_CLASSES[name]
    kwargs = {k: np.dtype(dtype).type(v) for k, v in hyper.items() if not (k == "momentum_decay" and v == 1.0)}
    if not kwargs.get("weight_decay"):
        kwargs.pop("weight_decay", None)  # Keras's "no weight decay" is None
    return lambda: getattr(keras.optimizers, cls)(**fixed, **kwargs)
