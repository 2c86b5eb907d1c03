"""What the script's child process hands back: an .npz of plain arrays and one JSON text, never a pickle.

``write_result`` (in the child) stores the payload's arrays under keys ``a0, a1, ...`` and the rest
as JSON naming them; ``read_result`` (in nnparity's process) reads it back with
``allow_pickle=False``, so nothing the learner's script leaves in the file can run there.
"""

from __future__ import annotations

import json

import numpy as np


def _encode(value, arrays: dict):
    """``value`` with every array replaced by {"__array__": its key in ``arrays``}: JSON, arrays aside."""
    if isinstance(value, np.ndarray):
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {"__array__": key}
    if isinstance(value, dict):
        return {str(k): _encode(v, arrays) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v, arrays) for v in value]
    return value.item() if isinstance(value, np.generic) else value


def _decode(value, arrays):
    if isinstance(value, dict):
        return arrays[value["__array__"]] if "__array__" in value else {k: _decode(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    return value


def write_result(path: str, payload: dict) -> None:
    """The payload as an .npz of plain arrays and one JSON text: read back without pickle (``read_result``),
    so nothing the script put in it can run in the process that reads it."""
    arrays: dict = {}
    meta = json.dumps(_encode(payload, arrays))
    with open(path, "wb") as fh:
        np.savez(fh, __meta__=np.array(meta), **arrays)


def read_result(path: str) -> dict:
    with np.load(path, allow_pickle=False) as stored:
        arrays = {k: stored[k] for k in stored.files if k != "__meta__"}
        return _decode(json.loads(str(stored["__meta__"])), arrays)
