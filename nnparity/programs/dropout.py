"""The lines a lesson with dropout adds to each program: inverted dropout after every hidden activation.

The keep-masks are drawn with NumPy in the program (``dropout_masks(step)``, the same text in all
three), exactly as ``conformance.lessons.dropout_masks`` draws them: one generator per training step
from ``(seed, DROPOUT_STREAM, step)``, one ``rng.random((N, units)) >= rate`` per hidden layer, in
order; each kept unit scaled by ``1 / (1 - rate)`` (``reference/dropout.py``). PyTorch's and Keras's
own Dropout layers draw from their own generators, so the programs share NumPy's masks: NumPy
multiplies by them in ``forward``, PyTorch and Keras in a small layer whose ``mask`` the training
loop sets before each step (off in ``model.eval()`` and ``predict``).
"""

from __future__ import annotations

from conformance.lessons import DROPOUT_STREAM, Lesson

from .declaration import num


def hidden(lesson: Lesson) -> range:
    """The layers (from 1) that a Dropout follows: every hidden one."""
    return range(1, lesson.n_layers) if lesson.dropout else range(0)


def targets(lesson: Lesson, name: str) -> str:
    """``mask1, mask2`` (``name`` "mask{l}"): the left side that unpacks ``dropout_masks(step)``."""
    names = [name.format(l=l) for l in hidden(lesson)]
    return ", ".join(names) if len(names) > 1 else f"[{names[0]}]"


def mask_lines(lesson: Lesson) -> list[str]:
    """``rate`` and ``dropout_masks(step)``: the step's scaled keep-masks, one per hidden layer."""
    keeps = [f"keep{l}" for l in hidden(lesson)]
    scaled = [f"{keep} / (1 - rate)" for keep in keeps]
    return [f"# Dropout({num(lesson.dropout)}) after each hidden activation,",
            "# inverted: a unit is kept with probability",
            "# 1 - rate, then scaled by 1 / (1 - rate).",
            "# The masks are drawn here with NumPy, the same in",
            "# the three programs: each framework's own",
            "# generator would draw other masks, and the runs",
            "# would part at the first step.",
            f"rate = {num(lesson.dropout)}", "", "def dropout_masks(step):",
            f"    # one generator per step: seed {lesson.seed}, stream {DROPOUT_STREAM}",
            f"    rng = np.random.default_rng(({lesson.seed}, {DROPOUT_STREAM}, step))"] + [
        f"    {keep} = rng.random((len(X), {units})) >= rate"
        for keep, units in zip(keeps, lesson.sizes[1:-1])] + [
        "    # the kept units scaled by 1 / (1 - rate)",
        "    return [" + ",\n            ".join(scaled) + "]", ""]


TORCH_CLASS = ["class MaskedDropout(nn.Module):",
               "    # nn.Dropout(rate) would draw its own masks",
               "    # with torch's generator; this one multiplies",
               "    # by the mask set on it: the step's.",
               "    mask = None", "",
               "    def forward(self, a):",
               "        if not self.training:  # model.eval()",
               "            return a",
               "        return a * self.mask", ""]

KERAS_CLASS = ["class MaskedDropout(keras.layers.Layer):",
               "    # keras.layers.Dropout(rate) would draw its",
               "    # own masks (its SeedGenerator); this one",
               "    # multiplies by the step's mask, set on it.",
               "    mask = None", "",
               "    def call(self, a, training=False):",
               "        if not training:  # predict",
               "            return a",
               "        return a * self.mask", ""]


def layer_lines(lesson: Lesson, framework: str) -> list[str]:
    """The masks' function, the framework's layer, and one of it per hidden layer: ``drop1, drop2 = ...``."""
    names = targets(lesson, "drop{l}").strip("[]")
    made = ", ".join("MaskedDropout()" for _ in hidden(lesson))
    return mask_lines(lesson) + (TORCH_CLASS if framework == "torch" else KERAS_CLASS) + [f"{names} = {made}"]


def torch_step_lines(lesson: Lesson) -> list[str]:
    """Inside the loop, before the step: the step's masks on the layers (full batch: the epoch is the step)."""
    return ["# the step's masks (full batch: epoch = step)",
            f"{targets(lesson, 'drop{l}.mask')} = map(", "    torch.from_numpy, dropout_masks(epoch))"]


def keras_callback_lines(lesson: Lesson) -> list[str]:
    return ["# before each step, its masks on the layers",
            "# (full batch: one step per epoch, epoch = step)",
            "class NewMasks(keras.callbacks.Callback):",
            "    def on_epoch_begin(self, epoch, logs=None):",
            "        masks = dropout_masks(epoch)",
            f"        {targets(lesson, 'drop{l}.mask')} = masks", ""]
