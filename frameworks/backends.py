"""Keras 3 runs on three backends, and a process can host only one of them.

Keras reads ``KERAS_BACKEND`` once, when ``keras`` is first imported, and keeps
that backend for the life of the process. nnparity names each backend as its
own framework::

    framework     KERAS_BACKEND   gradients by              float64 needs
    keras         tensorflow      tf.GradientTape           (nothing more)
    keras-jax     jax             jax.value_and_grad        jax_enable_x64 (set by the twin)
    keras-torch   torch           torch.autograd.grad       (nothing more)

A framework whose backend is not the process's is never run on the wrong
backend: ``backend_reason`` says why it cannot run here, ``worker_env`` gives
the environment of a process that can (``nnparity run`` starts one per backend;
pytest is told by ``KERAS_BACKEND``, as the tox envs do).
"""

from __future__ import annotations

import os
import sys

# framework name -> the Keras backend it runs on
KERAS_BACKENDS: dict[str, str] = {
    "keras": "tensorflow",
    "keras-jax": "jax",
    "keras-torch": "torch",
}

DEFAULT_BACKEND = "tensorflow"  # what keras_config.py sets when KERAS_BACKEND is unset


def process_backend() -> str:
    """The Keras backend of this process: Keras's own answer once imported, else ``KERAS_BACKEND``."""
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "backend"):
        return keras.backend.backend()
    return os.environ.get("KERAS_BACKEND") or DEFAULT_BACKEND


def backend_reason(framework: str) -> str | None:
    """None if ``framework`` can run in this process, else why not (its Keras backend is not this one)."""
    wanted = KERAS_BACKENDS.get(framework)
    if wanted is None:
        return None
    here = process_backend()
    if wanted == here:
        return None
    return (
        f"{framework} runs Keras on the {wanted} backend, and this process's Keras backend is {here} "
        f"(Keras reads KERAS_BACKEND once, at import): run it with KERAS_BACKEND={wanted} "
        f"(tox -e keras-{wanted}), or through `nnparity run`, which starts a process per backend"
    )


def worker_env(framework: str) -> dict[str, str]:
    """The environment of a child process in which ``framework`` can run."""
    env = dict(os.environ)
    if framework in KERAS_BACKENDS:
        env["KERAS_BACKEND"] = KERAS_BACKENDS[framework]
    return env
