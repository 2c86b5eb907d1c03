"""Why two models' activations differ: a missing or another activation, another setting of the same one,
or a convention of the frameworks that no setting changes (docs/conventions-activations.md).

- ``activation_explanations``: read off the paired stages (``activation_specs.py``'s labels): a
  missing activation (fix: ``activation=`` on the Keras Dense, tried); the same activation with
  another setting (GELU's tanh approximation, a leaky ReLU's slope, ELU's alpha, softplus's beta,
  hardtanh's range: the torch module set to Keras's value, tried); torch's softplus above its
  ``threshold`` (it returns z, Keras log(1 + exp(z))), with the gap measured on the inputs it met.
- ``without_setting``: GELU's constants (TensorFlow rounds 1/sqrt(2) and 0.044715 through float32), the
  leaky slope in float32, SELU's derivative at exactly 0 (torch scale * alpha, Keras scale) and
  hardtanh's at exactly its bounds (torch 0, Keras 1), each with its gap measured on
  the pair's own inputs, the convention torch can follow (``torch_follow.py``) and the adapter of
  ``frameworks/`` that computes the other framework's numbers.
"""

from __future__ import annotations

import numpy as np

from reference.activation_conventions import GELU, SELU

from .explain import Explanation
from .pairing import Pair
from .run import Settings

# activation -> (explanation key, what differs, torch attribute(s) and the value of each from Keras's setting,
#                the Keras construction that computes torch's setting, from it; None where Keras has none)
SETTINGS = {
    "leaky_relu": ("leaky-relu-slope", "the negative slope (keras.activations.leaky_relu: 0.2, layers.LeakyReLU: 0.3, "
                   "torch: 0.01)", lambda s: {"negative_slope": float(s)},
                   lambda s: f"keras.layers.LeakyReLU(negative_slope={s})"),
    "gelu": ("gelu-default", "exact or the tanh approximation (nn.GELU() and keras.activations.gelu, the 'gelu' string, "
             "are exact; keras.ops.gelu defaults to the approximation)", lambda s: {"approximate": s or "none"},
             lambda s: "activation=keras.ops.gelu (the approximation)" if s else "activation='gelu' (exact)"),
    "elu": ("elu-alpha", "alpha (the 'elu' function's is 1; keras.layers.ELU(alpha) sets it)",
            lambda s: {"alpha": float(s)}, lambda s: f"keras.layers.ELU(alpha={s})"),
    "softplus": ("softplus-beta", "beta (Keras's softplus has none: 1)", lambda s: {"beta": 1.0}, lambda s: None),
    "hardtanh": ("hardtanh-range", "the range (Keras's hard_tanh is -1 to 1)",
                 lambda s: dict(zip(("min_val", "max_val"), map(float, s.split(",")))), lambda s: None),
}
SOFTPLUS_THRESHOLD = 40.0  # torch then computes log(1 + exp(z)) up to 40; above it, exp(-z) < 4.3e-18 of z


def _where(stage) -> str:
    return stage.spec.where + (" activation" if stage.part == "activation" else "")


def _input(pair: Pair, i: int, stage, torch_values: dict):
    """The torch input of an activation stage: the point before, where the stage is its point's first."""
    point = pair.points[i]
    if not point.torch or point.torch[0] is not stage or i == 0:
        return None
    value = torch_values.get(pair.points[i - 1].name)
    return None if value is None else np.asarray(value, dtype=np.float64)


def _setting(t, k) -> Explanation:
    name = t.activation.split(":")[0]
    key, what, values, keras_way = SETTINGS[name]
    k_setting, t_setting = (s.activation.split(":", 1)[1] if ":" in s.activation else None for s in (k, t))
    changes = values(k_setting)
    torch_call = ", ".join(f"{a}={v!r}" for a, v in changes.items())
    tried = {a: _keras_slope(v) if a == "negative_slope" else v for a, v in changes.items()}
    other = keras_way(t_setting)
    return Explanation(key, "forward", f"{_where(t)} computes {t.activation}, {_where(k)} {k.activation}: {what}",
                       f"nn.{t.spec.cls}({torch_call}) in torch" + (f", or {other} in Keras" if other else
                                                                     " (Keras has no such setting)"),
                       Settings(torch_layers=tuple((t.spec.position, a, v) for a, v in tried.items())))


def _keras_slope(slope: float) -> float:
    """The slope TensorFlow's leaky_relu kernel computes with: rounded through float32 (leaky-relu-slope)."""
    return float(np.float32(slope))


def _missing(pair: Pair, i: int, t: list, k: list) -> Explanation:
    before = pair.points[i - 1] if i else None
    dense = before.keras[0].spec if before and before.keras and before.keras[0].spec.kind == "dense" else None
    detail = (f"after {before.name if before else 'the input'} torch applies {' -> '.join(t) or 'no activation'}, "
              f"Keras {' -> '.join(k) or 'no activation'}")
    if dense is not None and len(t) == 1 and len(k) <= 1 and ":" not in t[0]:
        return Explanation("activation", "forward", detail, f"activation='{t[0]}' on {dense.where} (or the same "
                           "change in torch)", Settings(keras_layers=((dense.position, "activation", t[0]),)))
    return Explanation("activation", "forward", detail, "the same activations on both sides")


def activation_explanations(pair: Pair, torch_values: dict) -> list[Explanation]:
    """Activations that differ between two paired layers: a missing one, another one, another setting."""
    found = []
    for i, point in enumerate(pair.points):
        t, k = [s.activation for s in point.torch], [s.activation for s in point.keras]
        if not point.compared or any(s.spec.kind != "activation" and s.part != "activation"
                                     for s in point.torch + point.keras):
            continue
        found += _softplus_threshold(pair, i, torch_values)
        if t == k:
            continue
        if [a.split(":")[0] for a in t] != [a.split(":")[0] for a in k]:
            found.append(_missing(pair, i, t, k))
            continue
        found += [_setting(ts, ks) for ts, ks in zip(point.torch, point.keras) if ts.activation != ks.activation]
    return found


def _softplus_threshold(pair: Pair, i: int, torch_values: dict) -> list[Explanation]:
    found = []
    for stage in pair.points[i].torch:
        z = _input(pair, i, stage, torch_values) if stage.activation.startswith("softplus") else None
        module = stage.spec.layer
        if z is None:
            continue
        beta, threshold = float(module.beta), float(module.threshold)
        above = z[beta * z > threshold]
        if not above.size:
            continue
        gap = float(np.log1p(np.exp(-beta * above.min())) / beta)
        found.append(Explanation(
            "softplus-threshold", "forward", f"{stage.spec.where} returns z itself where beta * z > threshold="
            f"{threshold:g}, Keras's softplus log(1 + exp(z)): {above.size} of its inputs on the first step are above "
            f"it (largest {above.max():.4g}), where the two are up to {gap:.3e} apart (value and derivative)",
            f"nn.Softplus(beta={beta:g}, threshold={SOFTPLUS_THRESHOLD:g}) in torch (log(1 + exp(z)) up to 40, where "
            "TensorFlow too returns z); Keras's softplus has no threshold",
            Settings(torch_layers=((stage.spec.position, "threshold", SOFTPLUS_THRESHOLD),))))
    return found


def _conventions(pair: Pair, name: str, convention: str | None = "torch") -> tuple[list, set]:
    """The torch stages of activation ``name`` (with their point's index) computing ``convention``, and the
    conventions Keras's compute."""
    torch_stages = [(i, s) for i, p in enumerate(pair.points) for s in p.torch if (s.activation or "").split(":")[0]
                    == name and s.spec.config.get("convention") == convention]
    keras = {s.spec.config.get("dense_convention", s.spec.config.get("convention")) for p in pair.points
             for s in p.keras if (s.activation or "").split(":")[0] == name}
    return torch_stages, keras


def without_setting(pair: Pair, torch_values: dict, dtype: str) -> list[Explanation]:
    """GELU's float32 constants, the leaky slope in float32 (float64 pairs: in float32 torch rounds them as
    TensorFlow does) and SELU'(0), where they apply, each with the convention torch can follow."""
    found = []
    gelus, keras = _conventions(pair, "gelu")
    if gelus and "keras" in keras and dtype == "float64":
        gaps = []
        for i, stage in gelus:
            z = _input(pair, i, stage, torch_values)
            if z is not None:
                approximate = stage.activation.endswith("tanh")
                ours, theirs = GELU(approximate, "torch"), GELU(approximate, "keras")
                gaps += [np.abs(ours.forward(z) - theirs.forward(z)).max(),
                         np.abs(ours.derivative(z, None) - theirs.derivative(z, None)).max()]
        measured = f": here up to {max(gaps):.3e} apart on the first step's inputs" if gaps else ""
        found.append(Explanation(
            "gelu-float32-constant", "forward", f"Keras's gelu on TensorFlow casts 1/sqrt(2) (exact) and 0.044715 "
            f"(tanh) through float32, torch computes them in float64{measured}", None,
            Settings(follow=frozenset({"keras-gelu-constants"})), adapter="frameworks.keras_adapters.torch_gelu as "
            "the Keras activation (Dense(activation=torch_gelu)), or TorchGELU(approximate) as a layer"))
    leaky, keras = _conventions(pair, "leaky_relu", None)
    rounded = [(s.spec.position, _keras_slope(s.spec.layer.negative_slope)) for _, s in leaky
               if _keras_slope(s.spec.layer.negative_slope) != s.spec.layer.negative_slope]
    if rounded and keras and dtype == "float64":
        found.append(Explanation(
            "leaky-relu-float32-slope", "forward", "TensorFlow's leaky_relu kernel rounds the negative slope to float32 "
            f"({rounded[0][1]!r} for {leaky[0][1].spec.layer.negative_slope!r}), torch keeps it in float64: "
            f"{abs(rounded[0][1] - leaky[0][1].spec.layer.negative_slope):.1e} times each negative input", None,
            Settings(torch_layers=tuple((position, "negative_slope", value) for position, value in rounded)),
            adapter="none needed: torch's nn.LeakyReLU(negative_slope=float(np.float32(slope))) computes Keras's numbers"))
    found += _hardtanh_edges(pair, torch_values)
    selus, keras = _conventions(pair, "selu")
    zeros = sum(int(np.count_nonzero(z == 0)) for i, s in selus if (z := _input(pair, i, s, torch_values)) is not None)
    if selus and "keras" in keras and zeros:
        found.append(Explanation(
            "selu-at-zero", "backward", f"{zeros} inputs of torch's SELU are exactly 0 on the first step, where torch's "
            f"derivative is scale * alpha = {SELU.scale * SELU.alpha:.4f} and Keras's (TensorFlow) scale = "
            f"{SELU.scale:.4f}: {SELU.scale * (SELU.alpha - 1):.3e} apart there", None,
            Settings(follow=frozenset({"keras-selu-derivative"})), adapter="frameworks.torch_adapters.KerasSELU() in "
            "torch, or frameworks.keras_adapters.torch_selu as the Keras activation"))
    return found


def _hardtanh_edges(pair: Pair, torch_values: dict) -> list[Explanation]:
    """torch's hardtanh has derivative 0 at exactly min_val and max_val, TensorFlow's 1: where inputs sit there."""
    stages, keras = _conventions(pair, "hardtanh", None)
    edges = sum(int(np.count_nonzero((z == s.spec.layer.min_val) | (z == s.spec.layer.max_val))) for i, s in stages
                if (z := _input(pair, i, s, torch_values)) is not None)
    if not (stages and keras and edges):
        return []
    return [Explanation(
        "hardtanh-at-edges", "backward", f"{edges} inputs of torch's Hardtanh are exactly at its bounds on the first "
        "step, where torch's derivative is 0 and Keras's hard_tanh's (TensorFlow) 1", None,
        Settings(follow=frozenset({"keras-hardtanh-edges"})), adapter="none in frameworks/: torch.clamp(z, -1, 1) in "
        "torch computes Keras's derivative at the bounds")]
