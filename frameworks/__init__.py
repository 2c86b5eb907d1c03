"""The lessons in PyTorch and Keras 3, built from the same declaration, loaded with the same weights.

Every twin has the same operations, in the same order, under the same names (``twin.py``,
the ``Twin`` protocol): ``set_params``, ``get_params``, ``forward``, ``loss``, ``gradients``,
``make_optimizer``, ``train`` (K steps over given mini-batches: each twin's one training
loop), ``step`` (one ``train`` step) and ``fit`` (``train`` over every epoch of a lesson).
Optimizers are named as in ``reference.OPTIMIZERS``, with Keras's hyper-parameter names.
Parameters and gradients go in and come out in the reference layout (``layout.py``).

Frameworks are imported lazily, once per process, and a twin is built once per
(framework, lesson, dtype) and reused by every check (``get_twin``).
"""

from __future__ import annotations

import importlib
import importlib.util
import platform
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version

from .backends import KERAS_BACKENDS, backend_reason

# framework name -> (module holding the twin, the packages it needs)
FRAMEWORKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "torch": ("frameworks.torch_twin", ("torch",)),
    "keras": ("frameworks.keras_twin", ("keras", "tensorflow")),
    # Keras's other backends: one twin class, one backend per process (backends.py).
    "keras-jax": ("frameworks.keras_twin", ("keras", "jax")),
    "keras-torch": ("frameworks.keras_twin", ("keras", "torch")),
}

# the pip extra that installs each framework
EXTRAS: dict[str, str] = {"torch": "torch", "keras": "keras", "keras-jax": "jax", "keras-torch": "keras-torch"}


def convention_of(framework: str | None) -> str | None:
    """The family whose formulas the reference follows for ``framework``: "torch" or "keras".

    Keras's optimizers and layers are the same code on every backend, so ``keras-jax`` and
    ``keras-torch`` follow Keras's formulas (their losses at saturated outputs differ:
    ``conformance/cases.py``). A name that is not a framework is passed through.
    """
    return "keras" if framework in KERAS_BACKENDS else framework


def missing_reason(framework: str) -> str | None:
    """None if ``framework``'s packages are installed, else why not."""
    if framework not in FRAMEWORKS:
        return f"unknown framework {framework!r}; expected one of {sorted(FRAMEWORKS)}"
    missing = [pkg for pkg in FRAMEWORKS[framework][1] if importlib.util.find_spec(pkg) is None]
    if missing:
        return (f"{framework} is not installed (missing {', '.join(missing)}): "
                f"pip install 'nnparity[{EXTRAS[framework]}]'")
    return None


def unavailable_reason(framework: str) -> str | None:
    """None if ``framework`` can run in this process, else why not (a missing package, another Keras backend)."""
    return missing_reason(framework) or backend_reason(framework)


def available_frameworks() -> list[str]:
    return [name for name in FRAMEWORKS if unavailable_reason(name) is None]


@lru_cache(maxsize=None)
def twin_class(framework: str):
    reason = unavailable_reason(framework)
    if reason:
        raise RuntimeError(reason)
    return importlib.import_module(FRAMEWORKS[framework][0]).Twin


@lru_cache(maxsize=256)  # bounded: the property-based tests build a twin per random lesson
def get_twin(framework: str, lesson, dtype: str):
    """The twin of ``lesson`` in ``framework`` and ``dtype``, built once per process."""
    return twin_class(framework)(lesson, dtype)


def versions() -> dict[str, str]:
    """Versions of numpy and of every framework installed (not importing any)."""
    out = {}
    for pkg in ("numpy", "torch", "keras", "tensorflow", "tensorflow-cpu", "jax", "scikit-learn"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    out["python"] = platform.python_version()
    return out
