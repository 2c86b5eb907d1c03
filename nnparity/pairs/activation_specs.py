"""Each side's activations read into one vocabulary, without importing either framework.

An activation becomes a config: its ``activation`` (the shared name), a ``setting`` when it has one
that changes the numbers (leaky_relu's slope, GELU's tanh approximation, ELU's alpha, softplus's
beta, hardtanh's range), and, for GELU and SELU, the ``convention`` whose numbers it computes
(docs/conventions-activations.md): torch's ``nn.GELU`` computes torch's float64 constants, Keras's
``gelu`` TensorFlow's float32 ones; torch's ``nn.SELU`` takes selu'(0) = scale * alpha, Keras's
scale. The adapters of ``frameworks/`` compute the other framework's numbers and are read as such:
``torch_gelu``/``TorchGELU`` and ``torch_selu`` in Keras, ``KerasSELU`` in torch.

    torch                                  Keras (a function, by name, or a layer)
    nn.ReLU, Sigmoid, Tanh, Softmax        relu, sigmoid, tanh, softmax; layers.ReLU, Softmax
    nn.LeakyReLU(negative_slope)           leaky_relu (slope 0.2); layers.LeakyReLU(negative_slope)
    nn.GELU(approximate='none'|'tanh')     gelu / activations.gelu (exact), ops.gelu (tanh by default)
    nn.ELU(alpha)                          elu (alpha 1); layers.ELU(alpha)
    nn.SELU, nn.SiLU, nn.Softsign          selu, silu (= swish), softsign
    nn.Softplus(beta, threshold)           softplus (no beta, no threshold)
    nn.Hardtanh(min_val, max_val)          hard_tanh (-1 to 1)
    nn.Identity                            linear

``label(config)`` is how a stage names it: ``"gelu:tanh"``, ``"leaky_relu:0.01"``, ``"elu:1.0"``.
"""

from __future__ import annotations

TORCH = {"ReLU": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Softmax": "softmax", "LeakyReLU": "leaky_relu",
         "Identity": "linear", "GELU": "gelu", "ELU": "elu", "SELU": "selu", "KerasSELU": "selu", "SiLU": "silu",
         "Softsign": "softsign", "Softplus": "softplus", "Hardtanh": "hardtanh"}
# Keras's activation functions by their name (swish is silu's other name)
KERAS_FUNCTIONS = {"relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh", "softmax": "softmax",
                   "leaky_relu": "leaky_relu", "linear": "linear", "gelu": "gelu", "elu": "elu", "selu": "selu",
                   "silu": "silu", "swish": "silu", "softsign": "softsign", "softplus": "softplus",
                   "hard_tanh": "hardtanh", "torch_gelu": "gelu", "torch_selu": "selu"}
KERAS_LAYERS = {"ReLU": "relu", "Softmax": "softmax", "LeakyReLU": "leaky_relu", "ELU": "elu", "TorchGELU": "gelu"}
NAMES = ("relu, sigmoid, tanh, softmax, leaky_relu, gelu, elu, selu, silu/swish, softsign, softplus, hardtanh "
         "(hard_tanh)")


def _number(x) -> str:
    """A setting as the user wrote it: 0.01, not 0.0100000 (the shortest repr of the float)."""
    return repr(float(x))


def label(config: dict) -> str:
    """A stage's name for the activation: its name, and its setting after a colon."""
    setting = config.get("setting")
    return config["activation"] if setting is None else f"{config['activation']}:{setting}"


def torch_activation(cls: str, m) -> dict:
    """The config of a torch activation module (``cls`` in ``TORCH``)."""
    name = TORCH[cls]
    config = {"activation": name}
    if cls == "LeakyReLU":
        config["setting"] = _number(m.negative_slope)
    elif cls == "GELU":
        config.update(convention="torch", setting="tanh" if m.approximate == "tanh" else None)
    elif cls in ("SELU", "KerasSELU"):
        config["convention"] = "torch" if cls == "SELU" else "keras"
    elif cls == "ELU":
        config["setting"] = _number(m.alpha)
    elif cls == "Softplus":
        config.update(threshold=m.threshold, setting=None if m.beta == 1 else f"beta={_number(m.beta)}")
    elif cls == "Hardtanh":
        config["setting"] = f"{_number(m.min_val)},{_number(m.max_val)}"
    return config


def keras_function(fn) -> dict | None:
    """The config of a Keras activation function (``Dense(activation=fn)``, ``Activation(fn)``); None if unknown."""
    name = getattr(fn, "__name__", str(fn))
    if name not in KERAS_FUNCTIONS:
        return None
    config = {"activation": KERAS_FUNCTIONS[name]}
    if name == "leaky_relu":
        config["setting"] = "0.2"  # keras.activations.leaky_relu's default negative_slope
    elif name == "gelu":  # keras.ops.gelu defaults to approximate=True, keras.activations.gelu to False
        tanh = getattr(fn, "__module__", "").startswith("keras.src.ops")
        config.update(convention="keras", setting="tanh" if tanh else None)
    elif name in ("torch_gelu", "torch_selu"):  # frameworks.keras_adapters: torch's numbers (torch_gelu: exact)
        config["convention"] = "torch"
    elif name == "selu":
        config["convention"] = "keras"
    elif name == "elu":
        config["setting"] = "1.0"  # keras.activations.elu's default alpha
    elif name == "hard_tanh":
        config["setting"] = "-1.0,1.0"
    return config


def keras_layer(cls: str, layer) -> dict:
    """The config of a Keras activation layer (``cls`` in ``KERAS_LAYERS``)."""
    config = {"activation": KERAS_LAYERS[cls]}
    if cls == "LeakyReLU":
        config["setting"] = _number(layer.negative_slope)
    elif cls == "ELU":
        config["setting"] = _number(layer.alpha)
    elif cls == "TorchGELU":
        config.update(convention="torch", setting="tanh" if layer.approximate == "tanh" else None)
    return config
