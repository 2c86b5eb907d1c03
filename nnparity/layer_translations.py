"""``nnparity translate`` for the constructions that are not optimizers: normalisation layers, losses,
schedules, GELU, SELU, softplus. Each returns a ``Translation`` whose gaps the reference measures now, under each
framework's convention (docs/conventions-layers.md, -losses.md, -training.md, -activations.md).
"""

from __future__ import annotations

import numpy as np

from reference import BatchNorm, clip_gradients
from reference.activation_conventions import GELU, SELU, Softplus
from reference.activations import Softmax
from reference.layernorm import LayerNorm
from reference.loss_conventions import mse_of_shapes, weighted_cross_entropy
from reference.losses import BinaryCrossEntropy, CategoricalCrossEntropy, CategoricalCrossEntropyWithLogits
from reference.training_conventions import ExponentialDecay

from .pairs.explain_activations import SOFTPLUS_THRESHOLD
from .translations import Translation, _call, _format

SAMPLE = np.random.default_rng(0)
LOGITS, LABELS = SAMPLE.normal(size=(6, 3)), np.eye(3)[[0, 1, 2, 2, 1, 0]]
BATCHES = [SAMPLE.normal(2.0, 1.5, (8, 4)) for _ in range(5)]


def batchnorm(framework: str, args: dict) -> Translation:
    """torch ``BatchNorm1d(num_features, eps, momentum)`` <-> Keras ``BatchNormalization(momentum, epsilon)``."""
    if framework == "torch":
        eps, torch_momentum = args.get("eps", 1e-5), args.get("momentum", 0.1)
        momentum = 1 - torch_momentum
    else:
        eps, momentum = args.get("epsilon", 1e-3), args.get("momentum", 0.99)
        torch_momentum = 1 - momentum
    units = args.get("num_features", 4)
    torch_text = _call("torch.nn.BatchNorm1d", {"eps": eps, "momentum": torch_momentum}, str(units))
    keras_text = _call("keras.layers.BatchNormalization", {"momentum": momentum, "epsilon": eps})
    runs = {}
    for rule in ("unbiased", "biased"):
        stats = [np.ones(4), np.zeros(4), np.zeros(4), np.ones(4)]
        norm = BatchNorm(*stats, momentum=momentum, epsilon=eps, running_variance=rule)
        runs[rule] = [(norm.forward(x), stats[3].copy())[1] for x in BATCHES]
    gaps = [float(np.max(np.abs(a - b))) for a, b in zip(runs["unbiased"], runs["biased"])]
    source, target = (torch_text, keras_text) if framework == "torch" else (keras_text, torch_text)
    return Translation(source, target, False, [
        "training outputs and the running mean agree; the running variance does not: torch keeps the batch's "
        "unbiased variance (x N/(N-1)), Keras the biased one, and no setting changes either",
        "so inference outputs differ too (batches of 8 below)"],
        [(f"running variance after call {k}", gap) for k, gap in enumerate(gaps, 1)],
        "frameworks.torch_adapters.KerasBatchNorm1d" if framework == "keras" else
        "frameworks.keras_adapters.TorchBatchNormalization")


def layernorm(framework: str, args: dict) -> Translation:
    """torch ``LayerNorm(normalized_shape, eps)`` <-> Keras ``LayerNormalization(epsilon)``: one formula."""
    eps = args.get("eps", 1e-5) if framework == "torch" else args.get("epsilon", 1e-3)
    units = args.get("normalized_shape", 4)
    torch_text = _call("torch.nn.LayerNorm", {"eps": eps}, str(units))
    keras_text = _call("keras.layers.LayerNormalization", {"epsilon": eps})
    x = BATCHES[0]
    gap = float(np.max(np.abs(LayerNorm(4, eps, "torch").forward(x) - LayerNorm(4, eps, "keras").forward(x))))
    other_default = LayerNorm.defaults["keras" if framework == "torch" else "torch"]
    source, target = (torch_text, keras_text) if framework == "torch" else (keras_text, torch_text)
    return Translation(source, target, gap == 0.0, [f"one formula; leaving epsilon to the other framework's default "
                                                   f"({other_default}) changes rows of small variance"],
                       [("outputs, same epsilon", gap)])


def cross_entropy(framework: str, args: dict) -> Translation:
    """torch ``CrossEntropyLoss(weight)`` <-> Keras ``CategoricalCrossentropy(from_logits)``."""
    logits = args.get("from_logits", False) if framework == "keras" else True
    weight = args.get("weight")
    exact = CategoricalCrossEntropyWithLogits().forward(LOGITS, LABELS)
    p = Softmax().forward(LOGITS)
    if framework == "keras" and not logits:
        twice = CategoricalCrossEntropyWithLogits().forward(p, LABELS)
        return Translation("keras.losses.CategoricalCrossentropy(from_logits=False)",
                           "torch.nn.NLLLoss()  # applied to torch.log(probabilities)", True,
                           ["Keras's loss takes probabilities; torch.nn.CrossEntropyLoss() takes logits: given the "
                            "softmax's output it applies softmax twice", "or drop the softmax and use "
                            "torch.nn.CrossEntropyLoss() on the logits"],
                           [("CrossEntropyLoss on probabilities (softmax twice) minus the loss",
                             twice - CategoricalCrossEntropy("keras").forward(p, LABELS))])
    keras_text = "keras.losses.CategoricalCrossentropy(from_logits=True)"
    torch_text = "torch.nn.CrossEntropyLoss()"
    if weight is None:
        return Translation(torch_text if framework == "torch" else keras_text,
                           keras_text if framework == "torch" else torch_text, True,
                           ["one-hot targets in Keras (SparseCategoricalCrossentropy for class indices); "
                            "class indices in torch"], [("loss on a sample, logits formula vs probabilities formula",
                                                        abs(exact - CategoricalCrossEntropy("keras").forward(p, LABELS)))])
    w = np.asarray(weight, dtype=float)
    torch_loss, keras_loss = (weighted_cross_entropy(LOGITS, LABELS, w[:3], c)[0] for c in ("torch", "keras"))
    return Translation(_call("torch.nn.CrossEntropyLoss", {"weight": tuple(weight)}),
                       "keras.losses.CategoricalCrossentropy(from_logits=True)  # with "
                       f"model.fit(..., class_weight={dict(enumerate(weight))})", False,
                       ["torch divides the weighted sum by the sum of the samples' weights, Keras by N: multiply "
                        "Keras's loss by N / sum(weights) (or divide torch's), no setting does it"],
                       [("loss, torch minus Keras, on a sample of 6", torch_loss - keras_loss)],
                       "frameworks.torch_adapters.KerasClassWeightedCrossEntropy (Keras's normalisation, in torch)")


def exponential_decay(framework: str, args: dict) -> Translation:
    """Keras ``ExponentialDecay(initial_learning_rate, decay_steps, decay_rate, staircase)`` -> a torch scheduler."""
    lr0, steps, rate = args["initial_learning_rate"], args["decay_steps"], args["decay_rate"]
    staircase = args.get("staircase", False)
    source = _call("keras.optimizers.schedules.ExponentialDecay", {"initial_learning_rate": lr0, "decay_steps": steps,
                                                                   "decay_rate": rate, "staircase": staircase})
    if staircase:
        target = f"torch.optim.lr_scheduler.StepLR(optimizer, step_size={steps}, gamma={_format(rate)})"
    else:
        target = f"torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: {_format(rate)} ** (step / {steps}))"
    schedule = ExponentialDecay(lr0, steps, rate, staircase)
    exact = [lr0 * rate ** ((k // steps) if staircase else (k / steps)) for k in range(10)]
    return Translation(source, target + f"  # optimizer lr={_format(lr0)}; scheduler.step() after every batch",
                       False, ["Keras decays at every step (torch's StepLR is usually stepped once an epoch: "
                               "step it every batch here)", "Keras computes the rate in float32, even in a "
                                                            "float64 model: the last digits differ"],
                       [(f"learning rate at step {k}", abs(schedule(k) - e)) for k, e in enumerate(exact)],
                       "frameworks.torch_adapters.KerasExponentialDecay (Keras's float32 rates, to the bit)")


def step_lr(framework: str, args: dict) -> Translation:
    """torch ``StepLR(optimizer, step_size, gamma)``, stepped once an epoch -> Keras's staircase ExponentialDecay."""
    size, gamma = args["step_size"], args.get("gamma", 0.1)
    target = (f"keras.optimizers.schedules.ExponentialDecay(initial_learning_rate=LR, decay_steps={size} * "
              f"STEPS_PER_EPOCH, decay_rate={_format(gamma)}, staircase=True)")
    schedule = ExponentialDecay(0.1, size, gamma, staircase=True)
    return Translation(f"torch.optim.lr_scheduler.StepLR(optimizer, step_size={size}, gamma={_format(gamma)})", target,
                       False, ["LR: the optimizer's learning rate; STEPS_PER_EPOCH: batches per epoch (Keras counts "
                               "steps, torch's loop steps the scheduler per epoch)",
                               "Keras computes the rate in float32 (drift below at LR = 0.1)"],
                       [(f"learning rate at epoch {k * size}", abs(schedule(k * size) - 0.1 * gamma**k))
                        for k in range(4)])


def gelu(framework: str, args: dict, name: str) -> Translation:
    """torch ``GELU(approximate)``/``F.gelu`` <-> ``keras.activations.gelu``/``keras.ops.gelu``."""
    default = name == "keras.ops.gelu"  # keras.ops.gelu approximates by default; the others are exact
    approximate = args.get("approximate", "tanh" if default else ("none" if framework == "torch" else False))
    approximate = approximate in (True, "tanh")
    z = np.linspace(-6, 6, 121)
    gaps = [float(np.max(np.abs(getattr(GELU(approximate, "torch"), f)(z, *([z] if f == "derivative" else []))
                                - getattr(GELU(approximate, "keras"), f)(z, *([z] if f == "derivative" else [])))))
            for f in ("forward", "derivative")]
    torch_text = f"torch.nn.GELU(approximate={'tanh' if approximate else 'none'!r})"
    keras_text = "keras.ops.gelu(x, approximate=True)" if approximate else "keras.activations.gelu(x)"
    source, target = (torch_text, keras_text) if framework == "torch" else (f"{name}(x, approximate={approximate})",
                                                                              torch_text)
    adapter = f"frameworks.keras_adapters.TorchGELU(approximate={'tanh' if approximate else 'none'!r})"
    if framework == "keras":
        adapter += " (torch's GELU in the Keras model: no torch setting computes TensorFlow's float32 constant)"
    return Translation(source, target, False, [
        "one formula; TensorFlow casts its constant (1/sqrt(2), or 0.044715 for tanh) through float32",
        "keras.ops.gelu defaults to the tanh approximation, keras.activations.gelu and torch to the exact GELU"],
        [("value", gaps[0]), ("gradient", gaps[1])], adapter)


def mse(framework: str, args: dict) -> Translation:
    """torch ``MSELoss()`` <-> Keras ``MeanSquaredError()``: one formula, apart on an (N, 1) against (N,) pair."""
    rng = np.random.default_rng(0)
    y_pred, y = rng.normal(size=(8, 1)), rng.normal(size=8)
    torch_loss, keras_loss = (mse_of_shapes(y_pred, y, c)[0] for c in ("torch", "keras"))
    names = ("torch.nn.MSELoss()", "keras.losses.MeanSquaredError()")
    source, target = names if framework == "torch" else names[::-1]
    return Translation(source, target, True, [
        "the same mean when prediction and target have the same shape", "an (N, 1) prediction against an (N,) "
        "target: torch broadcasts to (N, N) (with a warning), Keras aligns the ranks; reshape the target"],
        [("loss of an (N, 1) prediction against (N,), torch minus Keras", torch_loss - keras_loss)])


def bce(framework: str, args: dict, name: str) -> Translation:
    """torch ``BCELoss``/``BCEWithLogitsLoss`` <-> Keras ``BinaryCrossentropy(from_logits)``."""
    logits = name.endswith("BCEWithLogitsLoss") or args.get("from_logits", False)
    if logits:
        names = ("torch.nn.BCEWithLogitsLoss()", "keras.losses.BinaryCrossentropy(from_logits=True)")
        source, target = names if framework == "torch" else names[::-1]
        return Translation(source, target, True, ["both from the logits, exact for any logit"])
    names = ("torch.nn.BCELoss()", "keras.losses.BinaryCrossentropy()")
    source, target = names if framework == "torch" else names[::-1]
    p, y = np.array([[0.0], [0.5]]), np.array([[1.0], [1.0]])
    gap = BinaryCrossEntropy("torch").forward(p, y) - BinaryCrossEntropy("keras").forward(p, y)
    return Translation(source, target, False, [
        "the same loss for probabilities inside [1e-7, 1 - 1e-7]; at a saturated probability torch clamps each log "
        "at -100, Keras clips p to [1e-7, 1 - 1e-7] (and a Keras sigmoid's output is taken from its logits)",
        "computing from the logits on both sides (BCEWithLogitsLoss, from_logits=True) removes the difference"],
        [("loss of p = (0, 0.5) against y = (1, 1), torch minus Keras", gap)])


def selu_softplus(framework: str, args: dict, name: str) -> Translation:
    """torch ``SELU``/``Softplus`` <-> ``keras.activations.selu``/``softplus``."""
    z = np.array([0.0, 20.1])
    adapter = None
    if "elu" in name.lower():
        names, pair = ("torch.nn.SELU()", "keras.activations.selu(x)"), (SELU("torch"), SELU("keras"))
        note = "the same function; the derivative at exactly z = 0 differs: torch scale * alpha, Keras scale"
        adapter = {"torch": "frameworks.keras_adapters.torch_selu (torch's derivative at 0, in Keras)",
                   "keras": "frameworks.torch_adapters.KerasSELU (Keras's derivative at 0, in torch)"}[framework]
    else:
        names, pair = ("torch.nn.Softplus()", "keras.activations.softplus(x)"), (Softplus("torch"), Softplus("keras"))
        note = (f"torch returns z above its threshold 20 (torch.nn.Softplus(threshold={SOFTPLUS_THRESHOLD:g}) computes "
                "Keras's numbers; a huge threshold such as 1e9 overflows to inf: docs/conventions-activations.md)")
    source, target = names if framework == "torch" else names[::-1]
    value = float(np.max(np.abs(pair[0].forward(z) - pair[1].forward(z))))
    gradient = float(np.max(np.abs(pair[0].derivative(z, None) - pair[1].derivative(z, None))))
    return Translation(source, target, False, [note], [("value at z = 0 and 20.1", value),
                                                      ("gradient at z = 0 and 20.1", gradient)], adapter)


def clip_grad_norm(framework: str, args: dict) -> Translation:
    """torch ``clip_grad_norm_(parameters, max_norm)`` -> a Keras optimizer's ``global_clipnorm``."""
    c = args["max_norm"]
    grads = {"W": BATCHES[0], "b": BATCHES[1][0]}
    torch_clip, keras_clip = (clip_gradients(grads, convention=k, global_clipnorm=c) for k in ("torch", "keras"))
    gap = max(float(np.max(np.abs(torch_clip[k] - keras_clip[k]))) for k in grads)
    return Translation(_call("torch.nn.utils.clip_grad_norm_", {"max_norm": c}, "model.parameters()"),
                       f"keras.optimizers.SGD(..., global_clipnorm={_format(c)})  # any Keras optimizer", False, [
                           "torch divides by norm + 1e-6, Keras by the norm: a relative 1e-6 / norm apart",
                           "Keras's clipnorm= is not this: it clips each variable by its own norm"],
                       [("clipped gradients of norm %.3g" % float(np.sqrt(sum(np.sum(g * g) for g in grads.values()))),
                         gap)])
