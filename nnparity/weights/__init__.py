"""Weights across frameworks without pickle: a trained model and its optimizer state, torch <-> Keras.

    nnparity.export_weights(torch_model, "run.safetensors", optimizer=torch_opt)
    nnparity.load_weights("run.safetensors", keras_model, optimizer=keras_opt)   # and continue training

The file is ``safetensors`` (tensors only: loading it runs no code) holding the parameters, BatchNorm's
running statistics and the optimizer's state in one neutral form (``state.py``), and a manifest in its
metadata (``files.py``): the layout, the dtype, the source framework, the optimizer's class, step and
settings, and each convention that changes a number (BatchNorm's running variance, unbiased in torch and
biased in Keras; where Adam adds its epsilon; what SGD's momentum buffer holds). A ``.pt`` or ``.pkl``
file (or any pickle) is refused with the reason.
"""

from __future__ import annotations

from .files import PICKLE_SUFFIXES, WeightsError, export_weights, load_weights

__all__ = ["PICKLE_SUFFIXES", "WeightsError", "export_weights", "load_weights"]
