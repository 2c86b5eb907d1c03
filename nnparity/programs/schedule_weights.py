"""The lines a learning-rate schedule and class weights add to each program (``Lesson.lr_schedule``,
``Lesson.class_weights``).

The schedule is Keras's ``ExponentialDecay`` in float64, ``lr = lr0 * decay_rate ** (step / decay_steps)``
with ``step`` the optimizer's step count from 0 (the exponent floored with ``staircase``): NumPy computes
it before every update, PyTorch with ``LambdaLR`` stepped after every ``optimizer.step()`` (not once an
epoch, as ``StepLR`` is usually stepped), Keras with ``np.float64`` numbers (a Python float's schedule is
float32). The class weights weigh each sample by its class's weight ``s = y @ class_weight`` and divide the
sum by ``sum(s)`` ("sum_of_weights": PyTorch's ``CrossEntropyLoss(weight=w)`` on class indices, Keras's
``reduction="mean_with_sample_weight"``) or by N ("batch_size": Keras's ``fit(class_weight=...)`` default,
PyTorch's ``reduction="sum"`` divided by N). docs/conventions-training.md, docs/conventions-losses.md.
"""

from __future__ import annotations

from conformance.lessons import Lesson

from .declaration import num


def _schedule(lesson: Lesson) -> tuple[int, float, bool]:
    settings = dict(lesson.lr_schedule)
    return settings["decay_steps"], settings["decay_rate"], settings.get("staircase", False)


def _exponent(lesson: Lesson, step: str) -> str:
    steps, _, staircase = _schedule(lesson)
    return f"({step} // {steps})" if staircase else f"({step} / {steps})"


def numpy_schedule(lesson: Lesson) -> list[str]:
    """After the optimizer's settings: the schedule's, and the step count."""
    if not lesson.lr_schedule:
        return []
    _, rate, staircase = _schedule(lesson)
    return [f"# ExponentialDecay{' (staircase)' if staircase else ''}: every step,",
            f"# lr = lr0 * {num(rate)} ** {_exponent(lesson, 'iterations')}",
            "initial_learning_rate = learning_rate",
            "iterations = 0  # updates taken (Keras's name)"]


def numpy_update(lesson: Lesson, update: list[str]) -> list[str]:
    """The update, with the step's learning rate set before it and the step counted after it."""
    if not lesson.lr_schedule:
        return update
    _, rate, _ = _schedule(lesson)
    return ["learning_rate = (initial_learning_rate",
            f"    * {num(rate)} ** {_exponent(lesson, 'iterations')})"] + update + ["iterations += 1"]


def torch_scheduler(lesson: Lesson) -> list[str]:
    if not lesson.lr_schedule:
        return []
    _, rate, _ = _schedule(lesson)
    return ["# Keras's ExponentialDecay: stepped after every",
            "# batch (StepLR once an epoch is another schedule)",
            "scheduler = torch.optim.lr_scheduler.LambdaLR(",
            f"    optimizer, lambda step: {num(rate)} ** {_exponent(lesson, 'step')})"]


def keras_learning_rate(lesson: Lesson, learning_rate: str) -> list[str]:
    """``learning_rate=...,``: the number, or the schedule made from it."""
    if not lesson.lr_schedule:
        return [f"    learning_rate={learning_rate},"]
    steps, rate, staircase = _schedule(lesson)
    return ["    # np.float64: the schedule is then computed in",
            "    # float64 (from a Python float: float32)",
            "    learning_rate=keras.optimizers.schedules.ExponentialDecay(",
            f"        {learning_rate}, {steps}, np.float64({num(rate)}){', staircase=True' if staircase else ''}),"]


def _weights(lesson: Lesson) -> str:
    return f"[{', '.join(num(w) for w in lesson.class_weights)}]"


def _divides(lesson: Lesson) -> str:
    return "sum(s)" if lesson.class_weight_divisor == "sum_of_weights" else "N"


def numpy_loss(lesson: Lesson) -> list[str]:
    total = "s.sum()" if lesson.class_weight_divisor == "sum_of_weights" else "len(y)"
    return [f"class_weight = np.array({_weights(lesson)})",
            "# categorical CE from the logits z, each sample",
            f"# weighed by its class's weight s, over {_divides(lesson)}",
            "def loss_fn(z, y):", "    s = y @ class_weight",
            "    lse = np.logaddexp.reduce(z, axis=1)",
            f"    return (s * (lse - (y * z).sum(axis=1))).sum() / {total}"]


def numpy_output_gradient(lesson: Lesson) -> str:
    total = "(yb @ class_weight).sum()" if lesson.class_weight_divisor == "sum_of_weights" else "len(yb)"
    return f"(yb @ class_weight)[:, None] * (a{{L}} - yb) / {total}"


def torch_loss(lesson: Lesson) -> list[str]:
    if lesson.class_weight_divisor == "sum_of_weights":
        return ["# weight: on class indices torch divides by the",
                "# sum of the weights (on one-hot targets: by N)",
                f"ce = nn.CrossEntropyLoss(weight=torch.tensor({_weights(lesson)}))",
                "def loss_fn(z, y): return ce(z, y.argmax(dim=1))"]
    return ["# weighted sum over N, as Keras's class_weight",
            f"ce = nn.CrossEntropyLoss(weight=torch.tensor({_weights(lesson)}),",
            "                         reduction=\"sum\")",
            "def loss_fn(z, y): return ce(z, y.argmax(dim=1)) / len(y)"]


def keras_loss(lesson: Lesson) -> list[str]:
    if lesson.class_weight_divisor == "sum_of_weights":
        return ["# fit's class_weight weighs each sample; this",
                "# reduction divides by their sum (default: N)",
                "loss_fn = keras.losses.CategoricalCrossentropy(",
                "    reduction=\"mean_with_sample_weight\")"]
    return ["# fit's class_weight weighs each sample; the",
            "# default reduction divides the sum by N",
            "loss_fn = keras.losses.CategoricalCrossentropy()"]


def keras_class_weight(lesson: Lesson) -> list[str]:
    """``fit``'s ``class_weight={0: 1.0, ...},`` line (none without class weights)."""
    if not lesson.class_weights:
        return []
    return ["    class_weight={" + ", ".join(f"{c}: {num(w)}" for c, w in enumerate(lesson.class_weights)) + "},"]
