"""nnparity: does my neural network compute what PyTorch and Keras compute?

The public names load on first use (``import nnparity`` imports neither framework):
``compare_models``, ``assert_models_agree``, ``PairResult`` and ``PairError`` from ``nnparity.pairs``;
``export_weights`` and ``load_weights`` from ``nnparity.weights``.
"""

import importlib

_LAZY = {"compare_models": "nnparity.pairs", "assert_models_agree": "nnparity.pairs",
         "PairResult": "nnparity.pairs", "PairError": "nnparity.pairs",
         "export_weights": "nnparity.weights", "load_weights": "nnparity.weights"}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nnparity' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_LAZY])
