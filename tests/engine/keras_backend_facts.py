"""Measure what Keras does on the backend named by KERAS_BACKEND; print the facts as JSON.

Run in a child process by tests/engine/test_backends.py (a process hosts one Keras backend).
With ``--no-x64`` it builds a float64 twin without JAX's x64 mode, to show the refusal.
"""

import json
import sys

if "--no-x64" in sys.argv:  # keep frameworks/keras_config.py from enabling x64
    import jax

    jax.config.update = lambda *args, **kwargs: None

import numpy as np  # noqa: E402

from frameworks import keras_config, keras_twin  # noqa: E402  (keras_config sets the backend up as nnparity does)

keras, ops, keras_dtype = keras_config.keras, keras_config.keras.ops, keras_config.keras_dtype


def facts() -> dict:
    x = np.array([[0.1, 0.2], [0.3, 0.7]])
    with keras_dtype("float64"):
        t = ops.convert_to_tensor(x)
        dtypes = {name: str(ops.convert_to_numpy(f(t)).dtype) for name, f in {
            "matmul": lambda t: ops.matmul(t, t), "add": lambda t: ops.add(t, t), "mean": lambda t: ops.mean(t),
            "tanh": ops.tanh, "sigmoid": ops.sigmoid}.items()}
        third = ops.convert_to_tensor(np.array([1.0, 1.0, 1.0]) / 3)
        mean_error = abs(float(ops.convert_to_numpy(ops.mean(third))) - 1 / 3)
        # BCE on a saturated sigmoid (logit 40) whose target is 0: the logits give 40,
        # clipping gives -log(1e-7) = 16.118
        z = ops.convert_to_tensor(np.array([[40.0]]))
        bce = keras.losses.BinaryCrossentropy()(np.array([[0.0]]), keras.activations.sigmoid(z))
    return {
        "backend": keras.backend.backend(),
        "result_type_float64": keras.backend.result_type("float64", "float64"),
        "dtypes": dtypes,
        "mean_of_thirds_error": mean_error,
        "bce_of_sigmoid_40": float(ops.convert_to_numpy(bce)),
    }


def no_x64() -> dict:
    from conformance.lessons import LESSONS

    try:
        keras_twin.Twin(LESSONS["neuron"], "float64")
    except RuntimeError as exc:
        return {"error": str(exc)}
    return {"error": None}


print(json.dumps(no_x64() if "--no-x64" in sys.argv else facts()))
