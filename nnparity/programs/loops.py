"""The steps that write a layer per line, written as loops over lists for networks deeper than ``MAX_LAYERS``.

The same steps and the same arithmetic, over ``sizes`` (the layer sizes), ``Ws`` and ``bs`` (the
kernels and biases, in order) and, in NumPy, ``fs`` and ``dfs`` (each layer's activation and its
derivative). A list that repeats is written as runs: ``[2] + [16] * 10 + [1]``.
"""

from __future__ import annotations

from conformance.lessons import Lesson

from .declaration import FROM_LOGITS

DERIVATIVES = {"relu": "z > 0", "sigmoid": "a * (1 - a)", "tanh": "1 - a ** 2", "step": "1.0", "linear": "1.0"}
TORCH_CLASSES = {"relu": "nn.ReLU", "sigmoid": "nn.Sigmoid", "tanh": "nn.Tanh", "softmax": "nn.Softmax",
                 "step": "Step", "linear": "nn.Identity"}


def runs(items: list[str]) -> str:
    """``[a] * 10 + [b]``: a list literal of repeated items, written as runs."""
    parts, i = [], 0
    while i < len(items):
        j = i
        while j < len(items) and items[j] == items[i]:
            j += 1
        parts.append(f"[{items[i]}]" + (f" * {j - i}" if j - i > 1 else ""))
        i = j
    return " + ".join(parts)


def sizes_line(lesson: Lesson) -> str:
    return f"sizes = {runs([str(s) for s in lesson.sizes])}"


def numpy_model(lesson: Lesson, functions: dict) -> list[str]:
    lines = []
    for act in dict.fromkeys(lesson.activations):
        lines += functions.get(act, [f"def {act}(z): return z"])
    lines.append("# each layer's derivative, from its z and a")
    for act in dict.fromkeys(lesson.activations):
        lines.append(f"def d_{act}(z, a): return {DERIVATIVES.get(act, '1.0')}")
    return lines + [
        sizes_line(lesson), f"fs = {runs(list(lesson.activations))}", f"dfs = {runs(['d_' + a for a in lesson.activations])}",
        "", "def forward(X):", "    zs, outs = [], [X]", "    for W, b, f in zip(Ws, bs, fs):",
        "        zs.append(outs[-1] @ W + b)", "        outs.append(f(zs[-1]))", "    return zs, outs"]


def numpy_training(lesson: Lesson, output_gradient: dict, update: list[str]) -> list[str]:
    """One full-batch loop: forward, the loss, dz from the output back, the gradients, the update."""
    dz = output_gradient[lesson.loss].replace(f"a{{L}}", "outs[-1]").replace("yb", "y")
    if lesson.loss not in FROM_LOGITS:
        dz = f"{dz} * dfs[-1](zs[-1], outs[-1])"
    out = "zs[-1]" if lesson.loss in FROM_LOGITS else "outs[-1]"
    body = ["zs, outs = forward(X)", f"losses.append(loss_fn({out}, y))", f"dz = {dz}", "grads = []",
            "for l in reversed(range(len(Ws))):", "    grads = [outs[l].T @ dz, dz.sum(axis=0)] + grads",
            "    if l > 0:", "        dz = (dz @ Ws[l].T) * dfs[l - 1](zs[l - 1], outs[l])"] + update
    return ["losses = []", "for epoch in range(epochs):"] + ["    " + line for line in body]


def torch_model(lesson: Lesson, step_class: list[str]) -> list[str]:
    acts = [TORCH_CLASSES[a] for a in lesson.activations]
    lines = (step_class if "step" in lesson.activations else []) + [
        sizes_line(lesson), f"acts = {runs(acts)}", "layers = []",
        "for fan_in, units, act in zip(sizes[:-1], sizes[1:], acts):",
        "    layers += [nn.Linear(fan_in, units), act()]"]
    if lesson.loss in FROM_LOGITS:
        return lines + [f"# no {acts[-1]}() last: the loss takes logits", "model = nn.Sequential(*layers[:-1])"]
    return lines + ["model = nn.Sequential(*layers)"]


def torch_weights() -> list[str]:
    return ["linears = [m for m in model if isinstance(m, nn.Linear)]",
            "# nn.Linear's weight is (out, in): the transpose", "with torch.no_grad():",
            "    for layer, W, b in zip(linears, Ws, bs):", "        layer.weight.copy_(torch.from_numpy(W.T))",
            "        layer.bias.copy_(torch.from_numpy(b))"]


def keras_model(lesson: Lesson, step_function: list[str]) -> list[str]:
    acts = ["step" if a == "step" else f'"{a}"' for a in lesson.activations]
    return (step_function if "step" in lesson.activations else []) + [
        sizes_line(lesson), f"acts = {runs(acts)}", f"model = keras.Sequential([keras.Input(({lesson.sizes[0]},))] + [",
        "    keras.layers.Dense(units, activation=f)", "    for units, f in zip(sizes[1:], acts)])"]


KERAS_WEIGHTS = ["# a Dense kernel is (in, out), as in NumPy",
                 "model.set_weights([p for W, b in zip(Ws, bs) for p in (W, b)])"]
PARAMS = "params = [p for W, b in zip(Ws, bs) for p in (W, b)]"
