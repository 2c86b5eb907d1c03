"""Component checks: each reference activation and loss alone, against the frameworks, at its edges.

The lesson checks (``checks.py``) reach only what the catalog uses: every sigmoid + BCE
and softmax + CCE there is fused, so BCE and CCE on probabilities never run; no lesson
uses leaky_relu or the softmax Jacobian; no pre-activation is ever exactly 0. A mistake
there would go unseen (the mutation run in docs/mutation.md found them). These checks
feed each building block inputs chosen to hit its edges and compare value and gradient
with the framework's own function, through the one helper (``compare.py``), in float64:

- ``activation``: a = f(z) and dz = da * f'(z) on a grid with the kinks (z = 0 exactly),
  tiny and large |z| (+-40), and random rows (softmax mixes a row);
- ``loss``: L(pred, y) and dL/dpred, on probabilities that include 0, 1 and the values
  just inside Keras's clip [1e-7, 1 - 1e-7], or on logits up to +-40, soft and hard targets;
- ``initializer``: the weights it draws have the framework's distribution (``run_initializer``):
  the lesson checks load both sides with the same weights, so they cannot see a wrong draw.

A loss on probabilities has a convention (``losses.py``): ``convention="torch"`` is
checked against torch, ``"keras"`` against Keras.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from frameworks import unavailable_reason
from reference import ACTIVATIONS, LOSSES, get_initializer

from ..compare import Comparison, compare
from ..tolerances import tolerance

# framework -> the module with its component functions (activation, loss)
COMPONENT_MODULES = {"torch": "frameworks.torch_components", "keras": "frameworks.keras_components"}

# case name -> (reference loss, convention, frameworks that define it)
LOSS_CASES: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "mse": ("mse", None, ("torch", "keras")),
    "half_sse": ("half_sse", None, ("torch", "keras")),
    "bce-torch": ("bce", "torch", ("torch",)),
    "bce-keras": ("bce", "keras", ("keras",)),
    "bce_logits": ("bce_logits", None, ("torch", "keras")),
    "cce-torch": ("cce", "torch", ("torch",)),
    "cce-keras": ("cce", "keras", ("keras",)),
    "cce_logits": ("cce_logits", None, ("torch", "keras")),
}


# initializer -> (its arguments, {framework: the reference's arguments that match that framework})
# torch's normal initializers are plain normals; Keras's are truncated at 2 standard deviations.
INITIALIZER_CASES: dict[str, tuple[dict, dict[str, dict]]] = {
    "zeros": ({}, {"torch": {}, "keras": {}}),
    "normal": ({"scale": 0.5}, {"torch": {}, "keras": {}}),
    "uniform": ({"low": 0.0, "high": 1.0}, {"torch": {}, "keras": {}}),
    "glorot_uniform": ({}, {"torch": {}, "keras": {}}),
    "glorot_normal": ({}, {"torch": {"truncated": False}, "keras": {"truncated": True}}),
    "he_normal": ({}, {"torch": {"truncated": False}, "keras": {"truncated": True}}),
    "he_uniform": ({}, {"torch": {}, "keras": {}}),
    "torch_linear_default": ({}, {"torch": {}}),
}
INIT_FANS = (400, 2500)  # 1e6 weights: enough for quantiles to 0.005 (see the sampling row of tolerances.py)
# The reference draws them as 10^4 small kernels, as a lesson does: a truncation that only
# shows in small draws (a resampling loop that a small draw never enters) is then seen.
INIT_KERNEL = (10, 10)
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


@dataclass(frozen=True)
class Component:
    kind: str  # "activation" | "loss" | "initializer"
    name: str  # a key of reference.ACTIVATIONS, LOSS_CASES or INITIALIZER_CASES
    framework: str

    @property
    def id(self) -> str:
        return f"{self.kind}-{self.name}-{self.framework}"


def all_components(frameworks) -> list[Component]:
    out = [Component("activation", name, fw) for name in ACTIVATIONS for fw in frameworks]
    out += [Component("loss", name, fw) for name, (_, _, fws) in LOSS_CASES.items() for fw in frameworks if fw in fws]
    out += [Component("initializer", name, fw) for name, (_, fws) in INITIALIZER_CASES.items()
            for fw in frameworks if fw in fws]
    return out


@lru_cache(maxsize=None)
def _module(framework: str):
    reason = unavailable_reason(framework)
    if reason:
        raise RuntimeError(reason)
    return importlib.import_module(COMPONENT_MODULES[framework])


def activation_inputs():
    """(z, da): z of shape (72, 4) with exact kinks, +-1e-9, +-40, +-1000 and random rows; da random."""
    rng = np.random.default_rng(11)
    edges = np.array([
        [1000.0, -1000.0, 999.0, 0.0],  # softmax must shift each row by its own max to stay finite
        [-1000.0, -1001.0, -999.0, -1000.5],
        [0.0, 0.0, 0.0, 0.0],
        [0.0, 1e-9, -1e-9, 1.0],
        [-40.0, -30.0, 30.0, 40.0],
        [-1.0, 0.0, 1.0, 2.0],
        [5.0, -5.0, 0.0, 0.5],
        [-0.5, -2.0, -3.0, -1e-3],
    ])
    z = np.concatenate([edges, rng.normal(0.0, 3.0, (64, 4))])
    return z, rng.normal(0.0, 1.0, z.shape)


def loss_inputs(name: str, convention: str | None):
    """(pred, y) for one loss: probabilities with their edges, or logits, with hard and soft targets."""
    rng = np.random.default_rng(12)
    n, k = 12, 3
    if name in ("cce", "cce_logits"):
        y = np.eye(k)[rng.integers(0, k, n)]
        if name == "cce_logits":
            y[-2:] = [[0.2, 0.3, 0.5], [0.6, 0.4, 0.0]]  # soft targets
            large = [[40.0, -40.0, 0.0], [1000.0, 999.0, -1000.0], [-1000.0, -1001.0, -999.0]]
            return np.concatenate([rng.normal(0, 3, (n - 3, k)), large]), y
        e = np.exp(rng.normal(0, 1.5, (n, k)))
        p = e / e.sum(axis=1, keepdims=True)
        if convention == "keras":  # Keras renormalises rows that do not sum to 1, and clips to [1e-7, 1 - 1e-7]
            p[:3] *= [[0.5], [2.0], [1.3]]
            p[3], y[3] = [1.0 - 1e-9, 5e-10, 5e-10], [1.0, 0.0, 0.0]  # all three clipped
            p[4], y[4] = [0.6, 0.4 - 5e-8, 5e-8], [0.0, 0.0, 1.0]  # one clipped, the target's
            p[5], y[5] = [0.6, 0.4 - 5e-8, 5e-8], [1.0, 0.0, 0.0]  # one clipped, not the target's
            p[6], y[6] = [1e-7, 0.5, 0.5 - 1e-7], [1.0, 0.0, 0.0]  # exactly on the bounds: not clipped
            p[7], y[7] = [1.0 - 1e-7, 5e-8, 5e-8], [1.0, 0.0, 0.0]
        return p, y
    y = rng.integers(0, 2, (n, k)).astype(np.float64)
    y[-1] = [0.3, 0.7, 0.5]  # soft labels
    if name == "bce_logits":
        return np.concatenate([rng.normal(0, 3, (n - 1, k)), [[40.0, -40.0, 0.0]]]), y
    p = rng.uniform(0.02, 0.98, (n, k))
    if name == "bce":
        # both ends exactly, inside and just outside Keras's clip [1e-7, 1 - 1e-7]
        p[0] = [0.0, 1.0, 0.5]
        y[0] = [1.0, 0.0, 1.0]
        p[1] = [1e-9, 1.0 - 1e-9, 2e-7]
        y[1] = [1.0, 0.0, 0.0]
        p[2] = [1e-13, 1.0 - 1e-13, 1.0 - 2e-7]
        y[2] = [0.0, 1.0, 1.0]
        p[3] = [1e-7, 1.0 - 1e-7, 0.5]  # exactly on Keras's clip bounds: the gradient still passes
        y[3] = [1.0, 0.0, 1.0]
    return p, y


def reference_activation(name: str, z, da) -> dict[str, np.ndarray]:
    act = ACTIVATIONS[name]()
    a = act.forward(z)
    return {"a": a, "dz": act.backward(z, a, da)}


def reference_loss(name: str, convention: str | None, pred, y) -> dict[str, np.ndarray]:
    loss = LOSSES[name](convention) if convention else LOSSES[name]()
    # No errstate here: a loss that takes log(0) must say so itself (pytest turns a reference warning into an error).
    return {"loss": np.asarray(loss.forward(pred, y)), "dpred": loss.backward(pred, y)}


def distribution(weights: np.ndarray, unit: float) -> dict[str, np.ndarray]:
    """Scale and shape of a sample, in units of ``unit`` (the framework sample's standard deviation)."""
    w = np.ravel(weights) / unit
    return {"std": np.asarray(w.std()), "mean": np.asarray(w.mean()), "quantiles": np.quantile(w, QUANTILES)}


def run_initializer(name: str, framework: str) -> Comparison:
    """The reference's initializer and the framework's draw from the same distribution (1e6 weights each).

    Values cannot match (different random generators), so their distributions are
    compared: the standard deviation, the mean and seven quantiles, all in units of the
    framework sample's standard deviation, at the sampling tolerance. An initializer
    whose weights are all 0 is compared value for value.
    """
    args, by_framework = INITIALIZER_CASES[name]
    fan_in, fan_out = INIT_FANS
    theirs = _module(framework).initializer(name, args, fan_in, fan_out, seed=1)
    init = get_initializer(name, **args, **by_framework[framework])
    return compare_draws(init, theirs, what=f"initializer-{name}-{framework}")


def compare_draws(init, theirs: np.ndarray, what: str) -> Comparison:
    """The reference initializer ``init`` against a framework's kernel ``theirs`` of shape ``INIT_FANS``.

    ``init`` draws as many 10x10 kernels (fans ``INIT_FANS``) as ``theirs`` holds weights;
    the two samples are compared as ``run_initializer`` says.
    """
    fan_in, fan_out = INIT_FANS
    rng = np.random.default_rng(1)
    n_kernels = theirs.size // (INIT_KERNEL[0] * INIT_KERNEL[1])
    kernels = [init(INIT_KERNEL, rng, fan_in=fan_in, fan_out=fan_out) for _ in range(n_kernels)]
    ours = np.stack(kernels).reshape(theirs.shape)
    unit = float(theirs.std())
    if unit == 0.0:
        tol = tolerance("float64")
        return compare({"weights": ours}, {"weights": theirs}, atol=tol.atol, rtol=tol.rtol, what=what)
    tol = tolerance(None, "sampling")
    return compare(distribution(ours, unit), distribution(theirs, unit), atol=tol.atol, rtol=tol.rtol, what=what)


def run_component(component: Component) -> Comparison:
    """The reference's building block against ``component.framework``'s, value and gradient."""
    tol = tolerance("float64")
    module = _module(component.framework)
    if component.kind == "activation":
        z, da = activation_inputs()
        actual = module.activation(component.name, z, da)
        expected = reference_activation(component.name, z, da)
    elif component.kind == "loss":
        name, convention, _ = LOSS_CASES[component.name]
        pred, y = loss_inputs(name, convention)
        actual = module.loss(name, convention, pred, y)
        expected = reference_loss(name, convention, pred, y)
    elif component.kind == "initializer":
        return run_initializer(component.name, component.framework)
    else:
        raise ValueError(f"unknown component kind {component.kind!r}; expected 'activation', 'loss' or 'initializer'")
    return compare(actual, expected, atol=tol.atol, rtol=tol.rtol, what=component.id)
