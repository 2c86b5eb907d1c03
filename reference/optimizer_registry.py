"""Every optimizer of the reference by name: the one table the engine, the twins' checks and the CLI read.

``optimizers.py`` holds SGD, Adam, AdamW, RMSprop and Adagrad; ``adaptive_optimizers.py``
NAdam, Adamax, AMSGrad and Adadelta. Both are registered here, so that a lesson, a lesson
file or ``nnparity run --optimizer`` can name any of the nine (``conformance/optimizer_specs.py``
holds the named settings), and neither module imports the other's table.
"""

from __future__ import annotations

from .adaptive_optimizers import ADAPTIVE_OPTIMIZERS
from .clipping import CLIPPING
from .optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop

OPTIMIZERS: dict[str, type[Optimizer]] = {
    **{cls.name: cls for cls in (SGD, Adam, AdamW, RMSprop, Adagrad)},
    **ADAPTIVE_OPTIMIZERS,
}


def get_optimizer(name: str, *, convention: str = "torch", **hyper) -> Optimizer:
    """The optimizer called ``name`` (a key of ``OPTIMIZERS``) under ``convention``, with its hyper-parameters."""
    try:
        cls = OPTIMIZERS[name]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; expected one of {sorted(OPTIMIZERS)}") from None
    known = set(cls.defaults["torch"]) | set(CLIPPING)
    unknown = sorted(set(hyper) - known)
    if unknown:
        raise ValueError(f"optimizer {name!r}: unknown hyper-parameter(s) {unknown}; expected some of {sorted(known)}")
    return cls(convention=convention, **hyper)
