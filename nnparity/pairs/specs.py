"""Each framework's model read into an ordered list of layer specs, without importing either framework.

A torch ``nn.Sequential`` is read module by module, a Keras ``Sequential`` (or a functional model
that is a chain: one input, each layer fed by the one before) layer by layer. Every layer becomes a
``LayerSpec``: its position in the model, its name, its class, and its ``kind``:

    kind         torch                                   Keras
    dense        nn.Linear                               Dense (its activation= becomes an activation spec)
    batchnorm    nn.BatchNorm1d                          BatchNormalization
    layernorm    nn.LayerNorm (over the last axis)       LayerNormalization (axis -1)
    activation   nn.ReLU, Sigmoid, Tanh, Softmax,        Activation, ReLU, Softmax, LeakyReLU, ELU
                 LeakyReLU, GELU, ELU, SELU, SiLU, ...   (the table of ``activation_specs.py``)
    dropout      nn.Dropout                              Dropout

The layers are recognised by their class name and read through their attributes (duck typing), so
this module imports neither framework. Anything else is refused with ``PairError``, naming the
framework, the layer, its position and what is supported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import activation_specs

WEIGHTED = ("dense", "batchnorm", "layernorm")

SUPPORTED = ("Linear/Dense, BatchNorm1d/BatchNormalization, LayerNorm/LayerNormalization, Dropout, and the "
             f"activations {activation_specs.NAMES} (as layers, or Dense(activation=...))")


class PairError(ValueError):
    """Two models that cannot be compared: an unsupported layer, or layers that do not pair up."""


@dataclass
class LayerSpec:
    """One layer of one model: where it is, what it is, and its settings (``config``)."""

    framework: str  # "torch" or "keras"
    position: int  # index in the model's layer list (torch: the Sequential's index; Keras: model.layers)
    name: str
    cls: str
    kind: str  # dense, batchnorm, layernorm, activation, dropout
    config: dict = field(default_factory=dict)
    layer: object = None  # the framework's layer object

    @property
    def where(self) -> str:
        """How a message names it: "torch layer 2 (ReLU '2')"."""
        return f"{self.framework} layer {self.position} ({self.cls} '{self.name}')"


def _refuse(framework: str, position: int, name: str, cls: str, why: str = "") -> PairError:
    reason = why or f"not supported; supported: {SUPPORTED}"
    return PairError(f"{framework} layer {position} ({cls} '{name}'): {reason}")


def torch_specs(model) -> list[LayerSpec]:
    """The layers of a torch ``nn.Sequential``, in order."""
    if type(model).__name__ != "Sequential" or not hasattr(model, "named_children"):
        raise PairError(f"torch model: expected an nn.Sequential, got {type(model).__name__} "
                        "(wrap the layers in nn.Sequential(...))")
    specs = []
    for position, (name, module) in enumerate(model.named_children()):
        specs.append(_torch_spec(position, name, module))
    return specs


def _torch_spec(position: int, name: str, m) -> LayerSpec:
    cls = type(m).__name__
    spec = LayerSpec("torch", position, name, cls, "", layer=m)
    if cls == "Linear":
        spec.kind, spec.config = "dense", {"in": m.in_features, "units": m.out_features, "use_bias": m.bias is not None}
    elif cls == "BatchNorm1d":
        if not m.track_running_stats:
            raise _refuse("torch", position, name, cls, "track_running_stats=False is not supported")
        spec.kind = "batchnorm"
        spec.config = {"units": m.num_features, "momentum": m.momentum, "epsilon": m.eps, "affine": m.affine}
    elif cls == "LayerNorm":
        if len(m.normalized_shape) != 1:
            raise _refuse("torch", position, name, cls, f"normalized_shape {tuple(m.normalized_shape)}: only "
                          "the last axis is supported")
        spec.kind = "layernorm"
        spec.config = {"units": m.normalized_shape[0], "epsilon": m.eps, "affine": m.elementwise_affine}
    elif cls in activation_specs.TORCH:
        spec.kind, spec.config = "activation", activation_specs.torch_activation(cls, m)
        if cls == "Softmax" and m.dim not in (-1, 1):
            raise _refuse("torch", position, name, cls, f"dim={m.dim}: only the feature axis (-1 or 1) is supported")
    elif cls == "Dropout":
        spec.kind, spec.config = "dropout", {"rate": m.p}
    else:
        raise _refuse("torch", position, name, cls)
    return spec


def keras_layers(model) -> list:
    """The layers of a Keras Sequential, or of a functional model that is a chain, in order (no InputLayer)."""
    if not getattr(model, "built", True):
        raise PairError(f"keras model '{model.name}' is not built: give it an input shape (keras.Input(shape) as its "
                        "first layer, or model.build((None, n_features))) so that its weights exist")
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    if type(model).__name__ == "Sequential":
        return layers
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise PairError(f"keras model '{model.name}': a chain has one input and one output; it has "
                        f"{len(model.inputs)} and {len(model.outputs)}")
    for position, layer in enumerate(layers):
        nodes = getattr(layer, "_inbound_nodes", [])
        parents = [p.operation for p in nodes[0].parent_nodes] if len(nodes) == 1 else None
        before = layers[position - 1] if position else None
        if parents is None or len(parents) != 1 or (before is not None and parents[0] is not before):
            raise _refuse("keras", position, layer.name, type(layer).__name__,
                          "the functional model is not a chain here (this layer is not fed by the layer "
                          "before it alone)")
    return layers


def keras_specs(model) -> list[LayerSpec]:
    """The layers of a Keras model (``keras_layers``), in order."""
    return [_keras_spec(position, layer) for position, layer in enumerate(keras_layers(model))]


def _keras_activation(position, layer, fn) -> dict:
    config = activation_specs.keras_function(fn)
    if config is None:
        raise _refuse("keras", position, layer.name, type(layer).__name__, f"activation "
                      f"{getattr(fn, '__name__', str(fn))!r} is not supported; supported: {activation_specs.NAMES}")
    return config


def _keras_spec(position: int, layer) -> LayerSpec:
    cls = type(layer).__name__
    spec = LayerSpec("keras", position, layer.name, cls, "", layer=layer)
    if cls == "Dense":
        spec.kind = "dense"
        spec.config = {"in": int(layer.kernel.shape[0]), "units": layer.units, "use_bias": layer.use_bias,
                       **{f"dense_{k}": v for k, v in _keras_activation(position, layer, layer.activation).items()}}
    elif cls == "BatchNormalization":
        if layer.axis not in (-1, 1):
            raise _refuse("keras", position, layer.name, cls, f"axis={layer.axis}: only the feature axis")
        spec.kind = "batchnorm"
        spec.config = {"units": int(layer.gamma.shape[0]) if layer.scale else int(layer.moving_mean.shape[0]),
                       "momentum": layer.momentum, "epsilon": layer.epsilon, "affine": layer.center and layer.scale}
    elif cls == "LayerNormalization":
        if list(layer.axis) not in ([-1], [1]):
            raise _refuse("keras", position, layer.name, cls, f"axis={layer.axis}: only the last axis")
        spec.kind = "layernorm"
        spec.config = {"units": int(layer.gamma.shape[0]) if layer.scale else None, "epsilon": layer.epsilon,
                       "affine": layer.center and layer.scale}
    elif cls == "Activation":
        spec.kind, spec.config = "activation", _keras_activation(position, layer, layer.activation)
    elif cls in activation_specs.KERAS_LAYERS:
        spec.kind, spec.config = "activation", activation_specs.keras_layer(cls, layer)
        if cls == "ReLU" and (layer.max_value is not None or layer.negative_slope or layer.threshold):
            raise _refuse("keras", position, layer.name, cls, "ReLU with max_value, negative_slope or threshold")
    elif cls == "Dropout":
        spec.kind, spec.config = "dropout", {"rate": layer.rate}
    else:
        raise _refuse("keras", position, layer.name, cls)
    return spec
