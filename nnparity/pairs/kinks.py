"""A float32 pair that parts at a ReLU kink: the engine's probe (``conformance/known/kink_crossing.py``) on the two runs.

Measured on the port of ``keras-4-64-32-1`` (relu, relu, sigmoid; Adam 0.001; 24 samples, full
batch, float32, torch following Keras's epsilon-hat): the two runs stay within 6e-7 of each other
through step 46; before step 48 one pre-activation of layer 2 (sample 12, unit 2) is -8.1e-7 in
torch's weights and +9.6e-8 in Keras's, both forwarded in float64, so one run passes gradient
through that unit and the other does not, Adam turns the new gradient into a step-sized move, and
``W2[:, 2]`` parts (3.4e-4 after step 49, the trajectory row allowing 2e-4). Neither model is wrong:
float32 rounding decided the side of a kink, as it does between a framework and the float64
reference (``float32-relu-kink-crossing``).

``kink_crossing`` runs the engine's probe with torch's run as one side and Keras's as the other:
it accepts only a plain chain of dense layers (activations the reference has), in float32, where
every stage but the trajectory agrees, the runs agree up to the step where one pre-activation
crosses (their weights within the float32 trajectory@100 row, every crossing pre-activation within
the float32 forward tolerance), and no failed step comes before the crossing.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from conformance.known.kink_crossing import KINKED, explain_paths

from .explain import Explanation
from .pairing import Pair
from .run import batches as run_batches

# the activations the reference's MLP forwards in float64 (a hidden leaky_relu's slope is left out: not probed)
FORWARDED = ("relu", "sigmoid", "tanh", "linear", "softmax")


def _activations(pair: Pair) -> tuple | None:
    """Each dense layer's activation on the torch side (the last one's does not matter), or None when the
    model is not a plain chain of dense layers and activations the reference forwards."""
    if pair.batchnorm or any(s.kind == "layernorm" for s in pair.torch_specs):
        return None
    out = []
    for point in pair.points:
        if point.name.startswith("z"):
            out.append("linear")
        elif point.name.startswith("a") and out:
            acts = [s.activation for s in point.torch if s.activation]
            if len(acts) > 1 or (acts and acts[0] not in FORWARDED):
                return None
            out[-1] = acts[0] if acts else "linear"
        else:
            return None
    out[-1] = "linear"  # the output's activation feeds no pre-activation
    return tuple(out)


def _path(values: dict, start: dict, steps: int) -> dict:
    """{k: the weights after step k} for k = 0 (``start``) to ``steps``, from one side's named values."""
    names = [name for name in start if name[0] in "Wb"]
    path = {0: {name: np.asarray(start[name], dtype=np.float64) for name in names}}
    for k in range(1, steps + 1):
        path[k] = {name: np.asarray(values[f"{name} after step {k}"], dtype=np.float64) for name in names}
    return path


def kink_crossing(inputs, pair: Pair, tried, start: dict) -> Explanation | None:
    """The kink crossing that explains a float32 pair's failed trajectory (the module doc), or None.

    ``tried``: the run under the settings that account for every convention (``run.Run``); ``start``:
    the weights both sides started from."""
    activations = _activations(pair)
    failed = [stage for stage, c in tried.comparisons.items() if not c.passed]
    if inputs.dtype != "float32" or activations is None or not set(activations) & set(KINKED) or failed != [
            "trajectory"]:
        return None
    X = np.asarray(inputs.X, dtype=np.float32).astype(np.float64)
    batches = [np.arange(start, stop) for start, stop in run_batches(inputs)]
    snapshots = sorted({int(item.name.rsplit(" ", 1)[1]) for item in tried.comparisons["trajectory"].failures()})
    crossing = explain_paths(SimpleNamespace(activations=activations), X, batches,
                             _path(tried.keras_values, start, inputs.steps),
                             _path(tried.torch_values, start, inputs.steps), "float32", snapshots)
    if crossing is None:
        return None
    layer, unit, sample = crossing["stage"][1:], crossing["unit"], crossing["sample"]
    return Explanation(
        "kink-crossing", "trajectory",
        f"float32 rounding decided the side of a ReLU kink: before step {crossing['step']}, the pre-activation of "
        f"layer {layer}, unit {unit}, on sample {sample} is {crossing['z_framework']:.2e} in torch's weights and "
        f"{crossing['z_reference']:.2e} in Keras's (forwarded in float64; the weights were "
        f"{crossing['weights_apart']:.1e} apart, within rounding), so from there one run passes gradient through "
        f"that unit and the other does not, and the optimizer turns it into a step-sized move. Neither model is "
        f"wrong (conformance/known/kink_crossing.py)",
        None)
