"""Keras 3's set-up, done once, before Keras loads: the backend, TensorFlow's flags, float64.

Every module of nnparity that uses Keras imports this one first (``from .keras_config
import keras``), so these settings come before Keras (and TensorFlow or JAX) read them:

- ``KERAS_BACKEND``: Keras reads it once, at import, and keeps that backend for the life of
  the process. TensorFlow unless the caller chose (``backends.py`` names the three backends).
- ``TF_ENABLE_ONEDNN_OPTS=0``: oneDNN's custom ops change float32 ``tf.function`` results
  bitwise (docs/conventions.md#threads-and-onednn): off unless the caller chose, so results repeat from
  machine to machine. ``TF_CPP_MIN_LOG_LEVEL=2`` silences TensorFlow's start-up banner.
- On JAX, ``jax_enable_x64`` before JAX's first array: without it JAX holds float32 arrays
  under a variable that says float64 (the twin refuses to build, ``keras_twin.Twin``).
- float64 needs two settings (docs/conventions.md#keras-float64): ``set_floatx`` alone does
  not reach layers once any layer exists, because the dtype policy is cached, so
  ``keras_dtype`` sets ``set_dtype_policy`` too, around every build.
- torch's compiler stack (``torch._dynamo``, which torch.optim's first optimizer imports, and with
  it triton in torch's CUDA builds) crashes the process (SIGSEGV) when it loads after TensorFlow:
  measured with Python 3.12, torch 2.13.0+cu130, tensorflow-cpu 2.21 (``import keras``, then
  ``torch.optim.SGD(...)``); the other order works. Where torch is already in the process, it is
  loaded here, before Keras.
"""

from __future__ import annotations

import contextlib
import os
import sys

from .backends import DEFAULT_BACKEND

os.environ.setdefault("KERAS_BACKEND", DEFAULT_BACKEND)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # silence TF's start-up banner
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # bitwise-repeatable float32 (module doc)

if "torch" in sys.modules:
    import torch._dynamo  # noqa: F401  (before TensorFlow: module doc)

if os.environ["KERAS_BACKEND"] == "jax":
    import jax

    jax.config.update("jax_enable_x64", True)  # else float64 arrays silently become float32

import keras

BACKEND = keras.backend.backend()  # "tensorflow", "jax" or "torch": this process's, for good


@contextlib.contextmanager
def keras_dtype(dtype: str):
    """floatx and the global dtype policy set to ``dtype`` (both: see module doc), then restored."""
    old_floatx, old_policy = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx(dtype)
    keras.config.set_dtype_policy(dtype)
    try:
        yield
    finally:
        keras.config.set_floatx(old_floatx)
        keras.config.set_dtype_policy(old_policy)
