"""What a Keras optimizer takes of the reference's hyper-parameters, and as which numbers (no Keras import: checked without it).

The reference gives every optimizer the hyper-parameters of both frameworks, under Keras's
names. Keras's ``Nadam`` has no ``momentum_decay``: its schedule is ``0.96**t``, torch's
``momentum_decay=1`` (``reference.adaptive_optimizers.NAdam``). The Keras twin leaves such a
hyper-parameter out when it has the value Keras computes, and refuses any other value, naming
the adapter that computes torch's (docs/conventions-optimizers.md).

Each number goes as ``np.float64`` in a float64 run: TensorFlow's ``ops.cast`` rounds a Python float
through float32 (docs/conventions.md#float32-casts). Adadelta's ``rho`` is the exception
(``PYTHON_FLOATS``).
"""

from __future__ import annotations

import numpy as np

# optimizer -> (Keras's class, {a hyper-parameter it has no argument for: the one value it computes},
#               the adapter that computes the other values)
NOT_KERAS_ARGUMENTS = {
    "nadam": ("keras.optimizers.Nadam", {"momentum_decay": 1.0}, "frameworks.keras_adapters.TorchNAdam"),
}


# optimizer -> hyper-parameters its Keras class multiplies a variable by from the left (Adadelta's update_step:
# ``rho * accumulated_grad``). An np.float64 there makes NumPy read the variable as an array, which fails inside
# a tf.function ("numpy() is only available when eager execution is enabled"); a Python float goes to the
# variable's own multiplication, which takes it at the variable's dtype, exactly (no cast through float32).
PYTHON_FLOATS = {"adadelta": {"rho"}}


def keras_value(value, dtype: str):
    """A hyper-parameter as Keras should get it: bools as they are; floats as np.float64 in float64."""
    if isinstance(value, bool):
        return value
    return np.float64(value) if dtype == "float64" else float(value)


def keras_hyperparameters(optimizer: str, hyper: dict, dtype: str) -> dict:
    """``hyper`` as Keras's ``optimizer`` takes it in a ``dtype`` run (``keras_value``, ``PYTHON_FLOATS``), without
    the hyper-parameters it has no argument for, each checked to be the value Keras computes."""
    python = PYTHON_FLOATS.get(optimizer, set())
    converted = {k: float(v) if k in python else keras_value(v, dtype) for k, v in hyper.items()}
    if optimizer not in NOT_KERAS_ARGUMENTS:
        return converted
    cls, fixed, adapter = NOT_KERAS_ARGUMENTS[optimizer]
    for key, value in fixed.items():
        if key in hyper and hyper[key] != value:
            raise ValueError(f"keras twin: {cls} has no {key}; it computes {key}={value} ({adapter} computes "
                             f"the others). Received: {key}={hyper[key]}")
    return {k: v for k, v in converted.items() if k not in fixed}
