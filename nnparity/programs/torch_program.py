"""The PyTorch program, as a PyTorch user writes it.

``nn.Sequential(nn.Linear(2, 16), nn.ReLU(), ...)``, the loss module, ``torch.optim``, and the
usual loop (``zero_grad``, ``backward``, ``step``). What makes it agree with the NumPy and Keras
programs is written where it happens: float64 by default, the weights copied in with the
transpose ``nn.Linear`` needs, the loss taken on the logits (``BCEWithLogitsLoss``,
``CrossEntropyLoss``: the network then ends at its last ``nn.Linear``), Keras's Adam epsilon, and
the batches in order (``DataLoader(..., shuffle=False)``).
"""

from __future__ import annotations

from conformance.lessons import Lesson

from .data import data_lines
from . import adaptive_optimizers, batchnorm, dropout, layernorm, loops, schedule_weights
from .declaration import FROM_LOGITS, MAX_LAYERS, accuracy_lines, epochs_lines, num
from .weights import weight_lines, weight_loop_lines

MODULES = {"relu": "nn.ReLU()", "sigmoid": "nn.Sigmoid()", "tanh": "nn.Tanh()", "softmax": "nn.Softmax(dim=1)",
           "step": "Step()"}
STEP_CLASS = ["class Step(nn.Module):",
              "    # 1 if z >= 0 else 0; gradient: straight through",
              "    def forward(self, z):",
              "        return (z >= 0).to(z.dtype) + (z - z.detach())", ""]
LOSS_LINES = {
    "bce": ["# sigmoid + BCE in one exact formula, from the",
            "# logits, as NumPy and Keras compute it (BCELoss",
            "# on probabilities would clamp log(0) at -100)", "loss_fn = nn.BCEWithLogitsLoss()"],
    "cce": ["# softmax + categorical CE from the logits, as NumPy",
            "# and Keras compute it; y one-hot: class probabilities", "loss_fn = nn.CrossEntropyLoss()"],
    "mse": ["loss_fn = nn.MSELoss()"],
    "half_sse": ["# half the sum of squared errors", "def loss_fn(a, y): return 0.5 * ((a - y) ** 2).sum()"],
}
SAVE = ["weights = [p.detach().numpy()", "           for p in model.parameters()]",
        "np.savez(path, *weights, losses=losses)"]
SAVE_STATE = ["state = model.state_dict()  # with BatchNorm's running statistics",
              "weights = [v.numpy() for k, v in state.items()",
              "           if not k.endswith(\"num_batches_tracked\")]", "np.savez(path, *weights, losses=losses)"]
PROBABILITIES = {"bce": "torch.sigmoid({})", "cce": "torch.softmax({}, dim=1)"}


def _layers(lesson: Lesson) -> tuple[list[str], list[int]]:
    """The lines inside ``nn.Sequential(...)``, and the index of every ``nn.Linear`` in it."""
    lines, linears, index = [], [], 0
    for l, (fan_in, units, act) in enumerate(zip(lesson.sizes[:-1], lesson.sizes[1:], lesson.activations), 1):
        linear = f"nn.Linear({fan_in}, {units}{'' if lesson.use_bias else ', bias=False'})"
        linears.append(index)
        last = l == lesson.n_layers
        if batchnorm.hidden(lesson, l):
            lines += [f"    {linear},", f"    {batchnorm.torch_module(lesson, units)},", f"    {MODULES[act]},"]
            index += 3
        elif layernorm.hidden(lesson, l):
            lines += [f"    {linear},", f"    {layernorm.torch_module(lesson, units)},", f"    {MODULES[act]},"]
            index += 3
        elif act == "linear" or (last and lesson.loss in FROM_LOGITS):
            if act != "linear":
                lines.append(f"    # no {MODULES[act]}: the loss takes logits")
            lines.append(f"    {linear},")
            index += 1
        elif l in dropout.hidden(lesson):
            lines.append(f"    {linear}, {MODULES[act]}, drop{l},")
            index += 3
        else:
            lines.append(f"    {linear}, {MODULES[act]},")
            index += 2
    return lines, linears


def _model(lesson: Lesson) -> list[str]:
    if lesson.n_layers > MAX_LAYERS:
        return loops.torch_model(lesson, STEP_CLASS)
    lines, _ = _layers(lesson)
    note = ["# BatchNorm1d's momentum weighs the batch: 1 - Keras's"] if lesson.batchnorm else []
    note += ["# LayerNorm's eps as declared (Keras's default: 1e-3)"] if lesson.layernorm else []
    note += dropout.layer_lines(lesson, "torch") if lesson.dropout else []
    return (STEP_CLASS if "step" in lesson.activations else []) + note + ["model = nn.Sequential("] + lines + [")"]


def _weights(lesson: Lesson) -> list[str]:
    if lesson.n_layers > MAX_LAYERS:
        return weight_loop_lines(lesson) + loops.torch_weights()
    _, linears = _layers(lesson)
    lines = ["# nn.Linear's weight is (out, in): the transpose", "with torch.no_grad():"]
    for l, index in enumerate(linears, start=1):
        lines.append(f"    model[{index}].weight.copy_(torch.from_numpy(W{l}.T))")
        if lesson.use_bias:
            lines.append(f"    model[{index}].bias.copy_(torch.from_numpy(b{l}))")
    if lesson.batchnorm:
        lines = batchnorm.weight_lines(lesson) + ["# (nn.BatchNorm1d starts there itself)"] + lines
    if lesson.layernorm:
        lines = layernorm.weight_lines(lesson) + ["# (nn.LayerNorm starts there itself)"] + lines
    return weight_lines(lesson) + lines


def _optimizer(lesson: Lesson) -> list[str]:
    hyper = lesson.hyperparameters
    schedule = schedule_weights.torch_scheduler(lesson)
    if lesson.optimizer == "sgd":
        return ["optimizer = torch.optim.SGD(", f"    model.parameters(), lr={num(hyper['learning_rate'])})"] + schedule
    if lesson.optimizer in adaptive_optimizers.STATE:
        return adaptive_optimizers.torch_lines(lesson)
    return [f"# eps {num(hyper['epsilon'])} as declared (torch's default: 1e-8)",
            "optimizer = torch.optim.Adam(",
            f"    model.parameters(), lr={num(hyper['learning_rate'])},",
            f"    betas=({num(hyper['beta_1'])}, {num(hyper['beta_2'])}), eps={num(hyper['epsilon'])})"] + schedule


STEP = ["optimizer.zero_grad()", "loss = loss_fn(model({x}), {y})", "loss.backward()", "optimizer.step()"]


def _training(lesson: Lesson) -> list[str]:
    head = epochs_lines(lesson)
    step = STEP + (["scheduler.step()  # every batch"] if lesson.lr_schedule else [])
    if lesson.batch_size is None:
        body = dropout.torch_step_lines(lesson) if lesson.dropout else []
        body += [line.format(x="X", y="y") for line in step] + ["losses.append(loss.item())"]
        return head + ["losses = []", "for epoch in range(epochs):"] + ["    " + line for line in body]
    body = [line.format(x="xb", y="yb") for line in step] + ["total += loss.item() * len(xb)"]
    return head + ["# in order, every epoch: Keras's fit(shuffle=False)",
                   f"batches = DataLoader(TensorDataset(X, y), batch_size={lesson.batch_size})",
                   "losses = []", "for epoch in range(epochs):", "    total = 0.0", "    for xb, yb in batches:"] + [
                   "        " + line for line in body] + ["    losses.append(total / len(X))"]


def steps(lesson: Lesson) -> dict[str, str]:
    setup = ["import os", "", "import numpy as np", "import torch", "from torch import nn"]
    if lesson.batch_size is not None:
        setup.append("from torch.utils.data import DataLoader, TensorDataset")
    setup += ["", "# float64 everywhere, as NumPy computes", "torch.set_default_dtype(torch.float64)"]
    output = PROBABILITIES.get(lesson.loss, "{}").format("z")
    return {
        "setup": "\n".join(setup),
        "data": "\n".join(data_lines(lesson) + ["X, y = torch.from_numpy(X), torch.from_numpy(y)"]),
        "model": "\n".join(_model(lesson)),
        "initial weights": "\n".join(_weights(lesson)),
        "loss": "\n".join(schedule_weights.torch_loss(lesson) if lesson.class_weights else LOSS_LINES[lesson.loss]),
        "optimizer": "\n".join(_optimizer(lesson)),
        "training": "\n".join(_training(lesson)),
        "accuracy": "\n".join((["model.eval()  # BatchNorm: its running statistics"] if lesson.batchnorm else [])
                               + (["model.eval()  # no dropout"] if lesson.dropout else [])
                               + ["with torch.no_grad():", "    z = model(torch.from_numpy(X_test))",
                                 f"    a = {output}.numpy()"] + accuracy_lines(lesson, SAVE_STATE if lesson.batchnorm else SAVE)),
    }
