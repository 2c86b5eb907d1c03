"""Two models' layer specs paired: the forward quantities both compute, and the parameters they share.

The layers with weights (dense, batchnorm, layernorm) must pair one for one, in order, with the
same sizes and the same parameters (a bias, an affine norm): otherwise the models are not the same
network and ``PairError`` names the first layer that has no partner, with its position. The layers
without weights between them (activations) are free to differ: a torch ``ReLU`` module and a Keras
``Dense(activation="relu")`` compute the same thing, and a missing activation is a difference to
find in the numbers (the forward quantity after it), not a refusal.

The forward quantities, named as the lessons name them: ``z1`` (the first dense layer's output),
``bn1``/``ln1`` (a norm after it), ``a1`` (after the activations that follow), ``z2``, ...
Parameters are named ``W1, b1, gamma1, beta1`` (``ln_gamma1, ln_beta1`` for a LayerNorm), and
BatchNorm's running statistics ``moving_mean1, moving_variance1``, in the reference's layout.

Dropout: the two frameworks draw their masks from different generators, so no step of two
dropout models can agree. ``compare_models`` runs both with dropout off (as at inference; every
other layer trains) and compares the rates instead (``dropout_rates``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .activation_specs import label
from .specs import WEIGHTED, LayerSpec, PairError

POINT_PREFIX = {"dense": "z", "batchnorm": "bn", "layernorm": "ln"}
# kind -> [(reference name prefix, torch attribute, Keras attribute, trained)]
PARAMETERS = {
    "dense": [("W", "weight", "kernel", True), ("b", "bias", "bias", True)],
    "batchnorm": [("gamma", "weight", "gamma", True), ("beta", "bias", "beta", True),
                  ("moving_mean", "running_mean", "moving_mean", False),
                  ("moving_variance", "running_var", "moving_variance", False)],
    "layernorm": [("ln_gamma", "weight", "gamma", True), ("ln_beta", "bias", "beta", True)],
}


@dataclass
class Stage:
    """One computation of one side: a layer, or one half of a Keras ``Dense(activation=...)``."""

    spec: LayerSpec
    part: str  # "layer", "dense" (a Dense's x @ kernel + bias) or "activation" (its activation)
    activation: str | None = None  # for an activation stage: its label ("leaky_relu:0.01": activation_specs.py)


@dataclass
class Point:
    """A forward quantity both models compute, and the stages each runs to get there from the last one."""

    name: str
    meaning: str
    torch: list[Stage]
    keras: list[Stage]
    compared: bool = True  # False: the quantity is not the same thing on both sides (``fold_into_loss``)


@dataclass
class Param:
    name: str
    trained: bool
    torch: tuple  # (LayerSpec, attribute)
    keras: tuple


@dataclass
class Pair:
    points: list[Point]
    params: list[Param]
    dropout_rates: dict = field(default_factory=dict)  # point name -> (torch's rates, Keras's rates) after it
    torch_specs: list = field(default_factory=list)
    keras_specs: list = field(default_factory=list)

    @property
    def trained(self) -> list[Param]:
        return [p for p in self.params if p.trained]

    @property
    def batchnorm(self) -> bool:
        return any(s.kind == "batchnorm" for s in self.torch_specs)


def _stages(specs: list[LayerSpec]) -> list[Stage]:
    """The computations, in order: a Keras Dense with an activation is two; identities and dropouts none."""
    out = []
    for spec in specs:
        if spec.kind == "dense" and spec.config.get("dense_activation", "linear") != "linear":
            act = label({k[len("dense_"):]: v for k, v in spec.config.items() if k.startswith("dense_")})
            out += [Stage(spec, "dense"), Stage(spec, "activation", act)]
        elif spec.kind == "dense":
            out.append(Stage(spec, "dense"))
        elif spec.kind == "activation" and spec.config["activation"] != "linear":
            out.append(Stage(spec, "layer", label(spec.config)))
        elif spec.kind in WEIGHTED:
            out.append(Stage(spec, "layer"))
    return out


def _segments(specs: list[LayerSpec]) -> tuple[list[Stage], list[tuple[Stage, list[Stage], list[float]]]]:
    """(activations before the first weighted layer, [(weighted stage, activations after it, dropout rates after it)])."""
    head, segments = [], []
    dropout_after = {s.position: [] for s in specs}
    last = None
    for spec in specs:
        if spec.kind == "dropout" and last is not None:
            dropout_after[last].append(spec.config["rate"])
        elif spec.kind in WEIGHTED:
            last = spec.position
    for stage in _stages(specs):
        if stage.spec.kind in WEIGHTED and stage.part in ("layer", "dense"):
            segments.append((stage, [], dropout_after[stage.spec.position]))
        elif segments:
            segments[-1][1].append(stage)
        else:
            head.append(stage)
    return head, segments


def _sizes(spec: LayerSpec) -> tuple:
    c = spec.config
    return (spec.kind, c.get("in"), c.get("units"), c.get("use_bias"), c.get("affine"))


def _describe(spec: LayerSpec) -> str:
    c = spec.config
    if spec.kind == "dense":
        return f"dense {c['in']} -> {c['units']}{'' if c['use_bias'] else ' without bias'}"
    return f"{spec.kind} of {c.get('units')}{'' if c.get('affine', True) else ' without affine parameters'}"


def _extra(longer: list, shorter: list, i: int) -> bool:
    """Layer ``i`` of the longer list is one too many: without it, the rest pairs up."""
    rest = [_sizes(seg[0].spec) for seg in longer[i + 1:]]
    return len(longer) > len(shorter) and rest == [_sizes(seg[0].spec) for seg in shorter[i:]]


def _check_pairs(torch_w: list, keras_w: list) -> None:
    counts = f"the torch model has {len(torch_w)} layers with weights, the Keras model {len(keras_w)}"
    for i in range(max(len(torch_w), len(keras_w))):
        t = torch_w[i][0].spec if i < len(torch_w) else None
        k = keras_w[i][0].spec if i < len(keras_w) else None
        if t is not None and k is not None and _sizes(t) == _sizes(k):
            continue
        if t is None or k is None or _extra(torch_w, keras_w, i) or _extra(keras_w, torch_w, i):
            extra, other = (t, "Keras") if len(torch_w) > len(keras_w) else (k, "torch")
            raise PairError(f"the layers do not pair up: {extra.where}, a {_describe(extra)} (layer with weights "
                            f"number {i + 1}), has no partner in the {other} model ({counts})")
        raise PairError(f"the layers do not pair up at the layer with weights number {i + 1}: {t.where} is a "
                        f"{_describe(t)}, {k.where} a {_describe(k)} ({counts})")


def _chain(stages: list[Stage]) -> str:
    return " -> ".join(s.activation for s in stages) or "none"


def pair(torch_specs: list[LayerSpec], keras_specs: list[LayerSpec]) -> Pair:
    """Pair the two models' layers (``PairError`` where they do not pair up)."""
    t_head, t_segments = _segments(torch_specs)
    k_head, k_segments = _segments(keras_specs)
    _check_pairs(t_segments, k_segments)
    points, params, rates, used, unit = [], [], {}, set(), 0

    def unique(name):
        n, k = name, 2
        while n in used:
            n, k = f"{name}_{k}", k + 1
        used.add(n)
        return n

    if t_head or k_head:
        points.append(Point(unique("a0"), f"the activations before the first layer with weights: torch "
                            f"{_chain(t_head)}, Keras {_chain(k_head)}", t_head, k_head))
    for (t, t_acts, t_rates), (k, k_acts, k_rates) in zip(t_segments, k_segments):
        kind = t.spec.kind
        unit += kind == "dense"
        name = unique(f"{POINT_PREFIX[kind]}{unit}")
        points.append(Point(name, f"the output of {t.spec.where} and {k.spec.where}, a {_describe(t.spec)}",
                            [t], [k]))
        suffix = name[len(POINT_PREFIX[kind]):]
        for prefix, t_attr, k_attr, trained in PARAMETERS[kind]:
            if getattr(t.spec.layer, t_attr, None) is None and getattr(k.spec.layer, k_attr, None) is None:
                continue  # a layer without a bias (both sides: the sizes agreed)
            params.append(Param(unique(f"{prefix}{suffix}"), trained, (t.spec, t_attr), (k.spec, k_attr)))
        if t_acts or k_acts:
            a = unique(f"a{unit}")
            points.append(Point(a, f"after the activations that follow {name}: torch {_chain(t_acts)}, "
                                f"Keras {_chain(k_acts)}", t_acts, k_acts))
        if t_rates or k_rates:
            rates[points[-1].name] = (tuple(t_rates), tuple(k_rates))
    return Pair(points, params, rates, torch_specs, keras_specs)


# torch losses that apply the activation themselves: the torch model ends with the logits
FOLDED = {"CrossEntropyLoss": "softmax", "BCEWithLogitsLoss": "sigmoid"}


def fold_into_loss(pair: Pair, torch_loss, keras_loss) -> str | None:
    """A torch model that ends with the logits of a loss that applies the softmax (sigmoid) itself, paired
    with a Keras model that ends with that activation: the final activation is not compared (a note why)."""
    folded = FOLDED.get(type(torch_loss).__name__)
    last = pair.points[-1]
    from_logits = getattr(keras_loss, "get_config", dict)().get("from_logits", False)
    if folded is None or last.torch or [s.activation for s in last.keras] != [folded] or from_logits:
        return None
    last.compared = False
    return (f"{last.name} is not compared: torch's {type(torch_loss).__name__} applies the {folded} that the Keras "
            f"model ends with, so the torch model's output is {pair.points[-2].name}, the logits")
