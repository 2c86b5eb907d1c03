"""``nnparity translate "CONSTRUCTION"``: the other framework's construction that computes the same numbers.

    nnparity translate "torch.optim.Adam(model.parameters(), lr=1e-3)"
    nnparity translate "keras.layers.BatchNormalization()"
    nnparity translate "nn.CrossEntropyLoss()" [--json]

The text is parsed with ``ast`` (never evaluated): a call of a dotted name whose arguments are
literals (a torch optimizer's first argument, the parameters, may be anything). It prints the
counterpart, or says that none computes the same numbers, how far the two drift (measured
now by the reference under each framework's convention: ``translations.py``), and the adapter
to use. A name it does not know is a usage error (exit 2) that lists the names it knows.
"""

from __future__ import annotations

import ast
import json
from dataclasses import asdict

from . import layer_translations as layers
from .common import EXIT_OK, UsageError
from .translations import FAMILIES, Translation, translate_optimizer

# how a user may start a name -> the full prefix
PREFIXES = {"tf.keras.": "keras.", "nn.functional.": "torch.nn.functional.", "F.": "torch.nn.functional.",
            "nn.": "torch.nn.", "optim.": "torch.optim.", "lr_scheduler.": "torch.optim.lr_scheduler.",
            "layers.": "keras.layers.", "optimizers.": "keras.optimizers.", "losses.": "keras.losses.",
            "schedules.": "keras.optimizers.schedules.", "ops.": "keras.ops.", "activations.": "keras.activations."}


def _optimizers() -> dict:
    out = {}
    for key, family in FAMILIES.items():
        out[f"torch.optim.{family.torch}"] = ("torch", family.torch_params,
                                              lambda fw, args, _n, k=key: translate_optimizer(k, fw, args))
        out[f"keras.optimizers.{family.keras}"] = ("keras", family.keras_params,
                                                   lambda fw, args, _n, k=key: translate_optimizer(k, fw, args))
    return out


# full name -> (framework, positional parameters, handler(framework, arguments by name, name))
KNOWN = {
    **_optimizers(),
    "torch.nn.BatchNorm1d": ("torch", ("num_features", "eps", "momentum"), lambda fw, a, n: layers.batchnorm(fw, a)),
    "keras.layers.BatchNormalization": ("keras", ("axis", "momentum", "epsilon"),
                                        lambda fw, a, n: layers.batchnorm(fw, a)),
    "torch.nn.LayerNorm": ("torch", ("normalized_shape", "eps"), lambda fw, a, n: layers.layernorm(fw, a)),
    "keras.layers.LayerNormalization": ("keras", ("axis", "epsilon"), lambda fw, a, n: layers.layernorm(fw, a)),
    "torch.nn.CrossEntropyLoss": ("torch", ("weight",), lambda fw, a, n: layers.cross_entropy(fw, a)),
    "keras.losses.CategoricalCrossentropy": ("keras", ("from_logits", "label_smoothing"),
                                             lambda fw, a, n: layers.cross_entropy(fw, a)),
    "keras.optimizers.schedules.ExponentialDecay": ("keras", ("initial_learning_rate", "decay_steps", "decay_rate",
                                                              "staircase"),
                                                    lambda fw, a, n: layers.exponential_decay(fw, a)),
    "torch.optim.lr_scheduler.StepLR": ("torch", ("optimizer", "step_size", "gamma"),
                                        lambda fw, a, n: layers.step_lr(fw, a)),
    "torch.nn.GELU": ("torch", ("approximate",), layers.gelu),
    "torch.nn.functional.gelu": ("torch", ("input", "approximate"), layers.gelu),
    "keras.ops.gelu": ("keras", ("x", "approximate"), layers.gelu),
    "keras.activations.gelu": ("keras", ("x", "approximate"), layers.gelu),
    "torch.nn.utils.clip_grad_norm_": ("torch", ("parameters", "max_norm"),
                                       lambda fw, a, n: layers.clip_grad_norm(fw, a)),
    "torch.nn.MSELoss": ("torch", (), lambda fw, a, n: layers.mse(fw, a)),
    "keras.losses.MeanSquaredError": ("keras", (), lambda fw, a, n: layers.mse(fw, a)),
    "torch.nn.BCELoss": ("torch", (), layers.bce),
    "torch.nn.BCEWithLogitsLoss": ("torch", (), layers.bce),
    "keras.losses.BinaryCrossentropy": ("keras", ("from_logits",), layers.bce),
    "torch.nn.SELU": ("torch", (), layers.selu_softplus),
    "keras.activations.selu": ("keras", ("x",), layers.selu_softplus),
    "torch.nn.Softplus": ("torch", (), layers.selu_softplus),
    "keras.activations.softplus": ("keras", ("x",), layers.selu_softplus),
}
ANYTHING = {"params", "optimizer", "x", "input", "parameters"}  # arguments that are the user's objects, not settings


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    raise UsageError(f"expected a call of a dotted name such as torch.optim.Adam(...). Received: {ast.unparse(node)}")


def full_name(name: str) -> str:
    """The name in ``KNOWN`` that ``name`` means (its prefix expanded, or a unique last part), else a usage error."""
    for short, full in PREFIXES.items():
        if name.startswith(short):
            name = full + name[len(short):]
            break
    if name in KNOWN:
        return name
    matches = sorted(known for known in KNOWN if known.split(".")[-1] == name.split(".")[-1])
    if len(matches) == 1 and "." not in name:
        return matches[0]
    if matches:
        raise UsageError(f"{name!r} is ambiguous or unknown; did you mean one of {matches}?")
    raise UsageError(f"unknown construction {name!r}; nnparity translate knows: {', '.join(sorted(KNOWN))}")


def parse(text: str) -> tuple[str, dict]:
    """(the full name, its arguments by parameter name), read with ``ast`` from ``text``."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise UsageError(f"cannot parse {text!r}: {exc.msg}") from None
    if not isinstance(tree.body, ast.Call):
        raise UsageError(f"expected a call such as torch.optim.Adam(lr=1e-3). Received: {text!r}")
    name = full_name(dotted(tree.body.func))
    _, params, _ = KNOWN[name]
    if len(tree.body.args) > len(params):
        raise UsageError(f"{name}: too many positional arguments ({len(tree.body.args)}); it takes {list(params)}")
    given = list(zip(params, tree.body.args)) + [(kw.arg, kw.value) for kw in tree.body.keywords]
    args = {}
    for key, node in given:
        if key not in params and not (key in ANYTHING and key == params[0]):
            raise UsageError(f"{name}: unknown argument {key!r}; expected some of {list(params)}")
        if key in ANYTHING:
            continue
        try:
            args[key] = ast.literal_eval(node)
        except ValueError:
            raise UsageError(f"{name}: {key} must be a literal number, string or tuple. "
                             f"Received: {ast.unparse(node)}") from None
    return name, args


def translate(text: str) -> Translation:
    name, args = parse(text)
    framework, _, handler = KNOWN[name]
    try:
        return handler(framework, args, name)
    except KeyError as exc:
        raise UsageError(f"{name}: the argument {exc.args[0]} is required; it takes {list(KNOWN[name][1])}") from None
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{name}: {exc}") from None


def show(result: Translation) -> str:
    lines = [f"  {result.source}", "", "computes the same numbers as" if result.same else
             ("is closest to (no setting computes the same numbers)" if result.target else "has no counterpart"),
             "", f"  {result.target}" if result.target else "", ""]
    lines += [f"- {note}" for note in result.notes]
    if result.drift:
        lines += ["", "measured now (the reference under each framework's convention, float64), on",
                  f"{result.measured_on}:"]
        lines += [f"  {what}: {gap:.3g}" for what, gap in result.drift]
    if result.adapter:
        lines += ["", f"adapter: {result.adapter}"]
    return "\n".join(lines)


def cmd_translate(args) -> int:
    result = translate(args.construction)
    print(json.dumps(asdict(result), indent=2) if args.json else show(result))
    return EXIT_OK


def add_arguments(p) -> None:
    """``nnparity translate``'s options (nnparity/cli.py lists the command and its help line)."""
    p.add_argument("construction", help='a torch or Keras construction, e.g. "torch.optim.Adam(lr=1e-3)"')
    p.add_argument("--json", action="store_true", help="print the translation as JSON")
    p.set_defaults(func=cmd_translate)
