"""The export file: ``safetensors`` with nnparity's manifest in its metadata; pickle refused.

A safetensors file is an 8-byte header length, a JSON header (names, dtypes, shapes, and a string
metadata map), then raw bytes: reading it runs no code. The manifest is one JSON string under the
metadata key ``nnparity``. A file named ``.pt``, ``.pth``, ``.pkl``, ``.pickle`` or ``.ckpt``, or
whose bytes are a pickle (protocol 2 and later start with 0x80) or a ``torch.save`` zip, is refused:
unpickling runs whatever code the file names.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

from .state import is_torch, read_keras, read_torch, write_keras, write_torch

PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".pickle", ".ckpt")
FORMAT = "nnparity-weights/1"  # the manifest's own version
CONVENTIONS = {
    "torch": {"running_variance": "unbiased (torch's running_var: x N / (N - 1))",
              "epsilon": "added to sqrt(v_hat), after the bias correction (torch.optim.Adam)"},
    "keras": {"running_variance": "biased (Keras's moving_variance)",
              "epsilon": "added to sqrt(v) before the bias correction, epsilon-hat (keras.optimizers.Adam)"},
}
MOMENTUM = "torch's buffer b of p -= learning_rate * b (Keras holds -learning_rate * b: converted on load)"


class WeightsError(ValueError):
    """A weights file that cannot be read or written safely, or does not fit the model."""


def refuse_pickle(path: str) -> None:
    """Refuse a pickle file, by its name or its first bytes (module doc)."""
    suffix = Path(path).suffix.lower()
    if suffix in PICKLE_SUFFIXES:
        raise WeightsError(f"{path}: a {suffix} file is a pickle, and loading a pickle runs the code it names; "
                           "nnparity reads and writes .safetensors only (nnparity export)")
    if Path(path).is_file():
        with open(path, "rb") as fh:
            head = fh.read(9)
        if head[8:9] == b"{":  # safetensors: an 8-byte header length (any first byte), then its JSON header
            return
        if head[:1] == b"\x80" or head[:4] == b"PK\x03\x04":
            raise WeightsError(f"{path}: its bytes are a pickle (or a torch.save archive), whatever its name: "
                               "refused, since loading it runs the code it names")
        raise WeightsError(f"{path}: not a safetensors file (its header does not begin with a JSON object)")


def _manifest(framework: str, params: dict, settings: dict, model) -> dict:
    manifest = {"format": FORMAT, "framework": framework,
                "layout": "reference: kernels (fan_in, units); torch's weight is transposed by frameworks/layout.py",
                "dtype": str(next(iter(params.values())).dtype), "parameters": list(params)}
    if any(name.startswith("moving_variance") for name in params):
        manifest["running_variance"] = CONVENTIONS[framework]["running_variance"]
    if settings:
        manifest["optimizer"] = settings
        if settings["class"] in ("Adam", "AdamW"):
            manifest["optimizer"]["epsilon"] = CONVENTIONS[framework]["epsilon"]
        if settings["class"] == "SGD":
            manifest["optimizer"]["momentum"] = MOMENTUM
    return manifest


def export_weights(model, path: str, optimizer=None) -> dict:
    """Write ``model``'s parameters (and ``optimizer``'s state) to ``path`` (.safetensors); the manifest."""
    refuse_pickle(path)
    framework = "torch" if is_torch(model) else "keras"
    params, arrays, settings = (read_torch if framework == "torch" else read_keras)(model, optimizer)
    manifest = _manifest(framework, params, settings, model)
    tensors = {f"param/{name}": np.ascontiguousarray(v) for name, v in params.items()}
    tensors.update({f"optimizer/{name}": np.ascontiguousarray(v) for name, v in arrays.items()})
    save_file(tensors, path, metadata={"nnparity": json.dumps(manifest)})
    return manifest


def load_weights(path: str, model, optimizer=None) -> dict:
    """Load ``path`` (from ``export_weights``) into ``model`` (and ``optimizer``); the manifest.

    The model's layers must pair with the exported ones (same names and shapes); the optimizer, if
    given, must be of the exported class. Numbers that a convention changes are converted where a
    formula exists (SGD's momentum) and named in the manifest where none does.
    """
    refuse_pickle(path)
    with safe_open(path, framework="np") as fh:
        metadata = fh.metadata() or {}
    if "nnparity" not in metadata:
        raise WeightsError(f"{path}: a safetensors file without nnparity's manifest (write it with nnparity export)")
    manifest = json.loads(metadata["nnparity"])
    tensors = load_file(path)
    params = {k[len("param/"):]: v for k, v in tensors.items() if k.startswith("param/")}
    arrays = {k[len("optimizer/"):]: v for k, v in tensors.items() if k.startswith("optimizer/")}
    settings = manifest.get("optimizer", {})
    if optimizer is not None and settings and type(optimizer).__name__ != settings["class"]:
        raise WeightsError(f"{path}: holds a {settings['class']} state; the optimizer given is a "
                           f"{type(optimizer).__name__}")
    _check_fits(path, model, params)
    (write_torch if is_torch(model) else write_keras)(model, params, optimizer, arrays, settings)
    return manifest


def _check_fits(path: str, model, params: dict) -> None:
    have = (read_torch if is_torch(model) else read_keras)(model)[0]
    wrong = [f"{n}: file {params[n].shape if n in params else 'none'}, model {v.shape}" for n, v in have.items()
             if n not in params or params[n].shape != v.shape]
    if wrong or set(params) - set(have):
        extra = sorted(set(params) - set(have))
        raise WeightsError(f"{path}: does not fit the model: {'; '.join(wrong)}"
                           + (f"; not in the model: {', '.join(extra)}" if extra else ""))
