"""The NumPy program: the flat from-scratch form the lessons teach.

Forward, loss, gradients and update in plain lines, one or two per layer: ``z1 = X @ W1 + b1``,
``a1 = relu(z1)``, ..., ``dz2 = (a2 - y) / y.size``, ``dW2 = a1.T @ dz2``, ... The loss of a
sigmoid or softmax output is computed from its logits (exact where the output saturates), as
the reference and Keras do; its gradient with respect to the logits is ``(a - y) / N``.
"""

from __future__ import annotations

from conformance.lessons import Lesson

from .data import data_lines
from . import adaptive_optimizers, batchnorm, dropout, layernorm, loops, schedule_weights
from .declaration import FROM_LOGITS, MAX_LAYERS, accuracy_lines, epochs_lines, num
from .weights import weight_lines, weight_loop_lines

FUNCTIONS = {
    "relu": ["def relu(z): return np.maximum(z, 0.0)"],
    "sigmoid": ["def sigmoid(z): return 1 / (1 + np.exp(-z))"],
    "tanh": ["def tanh(z): return np.tanh(z)"],
    "step": ["def step(z): return (z >= 0) * 1.0"],
    "softmax": ["def softmax(z):", "    e = np.exp(z - z.max(axis=1, keepdims=True))",
                "    return e / e.sum(axis=1, keepdims=True)"],
}
# activation -> its derivative at layer {l}, times what flows back; "" for none (linear, straight-through step)
DERIVATIVES = {"relu": " * (z{l} > 0)", "sigmoid": " * a{l} * (1 - a{l})", "tanh": " * (1 - a{l} ** 2)",
               "step": "  # step: the gradient straight through", "linear": ""}
LOSS_LINES = {
    "bce": ["# BCE from the logit z: log(1 + e^z) - y z,",
            "# exact where the sigmoid saturates", "def loss_fn(z, y):",
            "    return np.mean(np.logaddexp(0, z) - y * z)"],
    "cce": ["# categorical CE from the logits z:", "# logsumexp(z) - y . z",
            "def loss_fn(z, y):", "    lse = np.logaddexp.reduce(z, axis=1)",
            "    return np.mean(lse - (y * z).sum(axis=1))"],
    "mse": ["def loss_fn(a, y): return np.mean((a - y) ** 2)"],
    "half_sse": ["# half the sum of squared errors",
                 "def loss_fn(a, y):", "    return 0.5 * np.sum((a - y) ** 2)"],
}
# loss -> dL/da of the output a{L}, as it multiplies the output's derivative (bce and cce: dL/dz itself)
OUTPUT_GRADIENT = {
    "bce": "(a{L} - yb) / yb.size  # sigmoid + BCE",
    "cce": "(a{L} - yb) / len(yb)  # softmax + CCE",
    "mse": "2 * (a{L} - yb) / yb.size",
    "half_sse": "(a{L} - yb)",
}


def forward_names(lesson: Lesson) -> list[list[str]]:
    """What ``forward`` returns, layer by layer: z, a (with BatchNorm or LayerNorm: z, m, v, h, n, a)."""
    normalized = (batchnorm.hidden, layernorm.hidden)
    return [[f"{v}{l}" for v in ("zmvhna" if any(h(lesson, l) for h in normalized) else "za")]
            for l in range(1, lesson.n_layers + 1)]


def _forward(lesson: Lesson) -> list[str]:
    masks = "".join(f", mask{l}=1.0" for l in dropout.hidden(lesson))
    lines = ["def forward(X, training=True):" if lesson.batchnorm else f"def forward(X{masks}):"]
    if masks:
        lines.append("    # the masks: the step's; 1.0 (default): none")
    for l, act in enumerate(lesson.activations, start=1):
        prev = "X" if l == 1 else f"a{l - 1}"
        bias = f" + b{l}" if lesson.use_bias else ""
        if batchnorm.hidden(lesson, l):
            lines += batchnorm.numpy_forward(l, prev, bias, act)
            continue
        if layernorm.hidden(lesson, l):
            lines += layernorm.numpy_forward(l, prev, bias, act)
            continue
        lines.append(f"    z{l} = {prev} @ W{l}{bias}")
        drop = f" * mask{l}" if l in dropout.hidden(lesson) else ""
        lines.append(f"    a{l} = {'z' + str(l) if act == 'linear' else f'{act}(z{l})'}{drop}")
    return lines + [f"    return {', '.join(n for layer in forward_names(lesson) for n in layer)}"]


def _model(lesson: Lesson) -> list[str]:
    lines = []
    for act in dict.fromkeys(lesson.activations):
        lines += FUNCTIONS.get(act, [])
    lines += [""] + (dropout.mask_lines(lesson) if lesson.dropout else [])
    return (lines + (batchnorm.settings(lesson) if lesson.batchnorm else [])
            + (layernorm.settings(lesson) if lesson.layernorm else []) + _forward(lesson))


def _backward(lesson: Lesson, xb: str) -> list[str]:
    """dz of every layer from the output back, and the gradients (``grads``, in ``params``' order)."""
    L = lesson.n_layers
    gradient = schedule_weights.numpy_output_gradient(lesson) if lesson.class_weights else OUTPUT_GRADIENT[lesson.loss]
    dz = gradient.format(L=L)
    if lesson.loss not in FROM_LOGITS:
        dz += DERIVATIVES[lesson.activations[-1]].format(l=L)
    lines = [f"dz{L} = {dz}"]
    for l in range(L, 0, -1):
        prev = xb if l == 1 else f"a{l - 1}"
        lines.append(f"dW{l}, db{l} = {prev}.T @ dz{l}, dz{l}.sum(axis=0)" if lesson.use_bias
                     else f"dW{l} = {prev}.T @ dz{l}")
        derivative = DERIVATIVES[lesson.activations[l - 2]] if l > 1 else ""
        if l > 1 and batchnorm.hidden(lesson, l - 1):
            lines += batchnorm.numpy_backward(l - 1, f"(dz{l} @ W{l}.T)", derivative)
        elif l > 1 and layernorm.hidden(lesson, l - 1):
            lines += layernorm.numpy_backward(l - 1, f"(dz{l} @ W{l}.T)", derivative)
        elif l > 1:
            drop = f" * mask{l - 1}" if l - 1 in dropout.hidden(lesson) else ""
            lines.append(f"dz{l - 1} = (dz{l} @ W{l}.T){drop}{derivative.format(l=l - 1)}")
    grads = [f"d{name}" for name in batchnorm.trainable_names(lesson)]
    return lines + [f"grads = [{', '.join(grads)}]"]


def _optimizer(lesson: Lesson) -> list[str]:
    hyper = lesson.hyperparameters
    params = f"params = [{', '.join(batchnorm.trainable_names(lesson))}]"
    schedule = schedule_weights.numpy_schedule(lesson)
    if lesson.optimizer == "sgd":
        return [f"learning_rate = {num(hyper['learning_rate'])}"] + schedule + [
            "# the parameters, updated in place", params]
    if lesson.optimizer in adaptive_optimizers.STATE:
        return adaptive_optimizers.numpy_state(lesson, params)
    names = ("learning_rate", "beta_1", "beta_2", "epsilon")
    return [f"{', '.join(names)} = (", f"    {', '.join(num(hyper[n]) for n in names)})"] + schedule + [
            "# the parameters, updated in place", params,
            "m = [np.zeros_like(p) for p in params]  # mean of g",
            "v = [np.zeros_like(p) for p in params]  # mean of g**2", "t = 0  # steps taken"]


def _update(lesson: Lesson) -> list[str]:
    return schedule_weights.numpy_update(lesson, _optimizer_update(lesson))


def _optimizer_update(lesson: Lesson) -> list[str]:
    if lesson.optimizer == "sgd":
        return ["for p, g in zip(params, grads):", "    p -= learning_rate * g"]
    if lesson.optimizer in adaptive_optimizers.STATE:
        return adaptive_optimizers.numpy_update(lesson)
    return ["t += 1  # Adam; epsilon as in the paper and torch",
            "for p, g, m_p, v_p in zip(params, grads, m, v):",
            "    m_p[:] = beta_1 * m_p + (1 - beta_1) * g",
            "    v_p[:] = beta_2 * v_p + (1 - beta_2) * g * g",
            "    m_hat = m_p / (1 - beta_1**t)",
            "    v_hat = v_p / (1 - beta_2**t)",
            "    step = m_hat / (np.sqrt(v_hat) + epsilon)",
            "    p -= learning_rate * step"]


def _training(lesson: Lesson) -> list[str]:
    L = lesson.n_layers
    out = f"z{L}" if lesson.loss in FROM_LOGITS else f"a{L}"
    layers = [", ".join(names) for names in forward_names(lesson)]
    unpack = ", ".join(layers) if len(", ".join(layers)) < 40 else "(" + ",\n ".join(layers) + ")"
    head = epochs_lines(lesson)
    if lesson.batch_size is None:
        masks = ["# the step's masks (full batch: epoch = step)",
                 f"{dropout.targets(lesson, 'mask{l}')} = dropout_masks(epoch)"] if lesson.dropout else []
        args = "".join(f", mask{l}" for l in dropout.hidden(lesson))
        call = f"{unpack} = forward(X{args})"
        if args and len(call) > 46:  # indented, it would pass the 50 columns of `nnparity show`
            call = f"{unpack} = forward(\n    X{args})"
        body = masks + [*call.split("\n"), f"losses.append(loss_fn({out}, y))"]
        body += batchnorm.numpy_running(lesson, "len(X)") if lesson.batchnorm else []
        body += [line.replace("yb", "y") for line in _backward(lesson, "X")] + _update(lesson)
        return head + ["losses = []", "for epoch in range(epochs):"] + ["    " + line for line in body]
    body = ["xb, yb = X[i:i + batch_size], y[i:i + batch_size]", f"{unpack} = forward(xb)",
            f"total += loss_fn({out}, yb) * len(xb)"] + _backward(lesson, "xb") + _update(lesson)
    return head + [f"batch_size = {lesson.batch_size}  # in order, every epoch", "losses = []",
                   "for epoch in range(epochs):", "    total = 0.0",
                   "    for i in range(0, len(X), batch_size):"] + ["        " + line for line in body] + [
                   "    losses.append(total / len(X))"]


def _prediction(lesson: Lesson, deep: bool) -> str:
    if lesson.batchnorm:
        return "a = forward(X_test, training=False)[-1]"
    return f"a = forward(X_test){'[1]' if deep else ''}[-1]"


def _save(lesson: Lesson) -> list[str]:
    if not lesson.batchnorm:
        return ["np.savez(path, *params, losses=losses)"]
    names = batchnorm.state_names(lesson)
    rows = [", ".join(names[i:i + 2]) for i in range(0, len(names), 2)]
    return ["weights = [" + ",\n           ".join(rows) + "]", "np.savez(path, *weights, losses=losses)"]


def steps(lesson: Lesson) -> dict[str, str]:
    deep = lesson.n_layers > MAX_LAYERS  # the layers as loops (loops.py)
    optimizer = _optimizer(lesson)
    if deep:
        optimizer = [loops.PARAMS if line.startswith("params = ") else line for line in optimizer]
    training = (epochs_lines(lesson) + loops.numpy_training(lesson, OUTPUT_GRADIENT, _update(lesson)) if deep
                else _training(lesson))
    return {
        "setup": "import os\n\nimport numpy as np",
        "data": "\n".join(data_lines(lesson)),
        "model": "\n".join(loops.numpy_model(lesson, FUNCTIONS) if deep else _model(lesson)),
        "initial weights": "\n".join(weight_loop_lines(lesson) if deep else weight_lines(lesson) + (
            batchnorm.weight_lines(lesson) if lesson.batchnorm else []) + (
            layernorm.weight_lines(lesson) if lesson.layernorm else [])),
        "loss": "\n".join(schedule_weights.numpy_loss(lesson) if lesson.class_weights else LOSS_LINES[lesson.loss]),
        "optimizer": "\n".join(optimizer),
        "training": "\n".join(training),
        "accuracy": "\n".join([_prediction(lesson, deep)] + accuracy_lines(lesson, _save(lesson))),
    }
