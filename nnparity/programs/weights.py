"""The initial weights, drawn with NumPy in the program exactly as ``conformance.lessons.initial_params`` does.

One generator from the lesson's seed, each layer's kernel then its bias, drawn in that order with
the calls of ``reference/initializers.py`` (``rng.normal(0.0, std, shape)``, ``rng.uniform(...)``,
...), so the numbers are the reference's to the bit. A lesson whose weights are stated exactly
(``fixed_params``) writes them out. Kernels are (in, out), as NumPy and Keras keep them.
"""

from __future__ import annotations

from conformance.lessons import Lesson


def _num(value) -> str:
    return repr(float(value))


def _normal(std: str):
    return lambda W, shape, fans: [f"{W} = rng.normal(0.0, {std.format(*fans)}, {shape})"]


def _uniform(limit: str):
    def lines(W, shape, fans):
        return [f"limit = {limit.format(*fans)}", f"{W} = rng.uniform(-limit, limit, {shape})"]
    return lines


# reference initializer -> its lines: W is the name, shape "(in, out)", fans (fan_in, fan_out)
KERNELS = {
    "zeros": lambda W, shape, fans, **_: [f"{W} = np.zeros({shape})"],
    "normal": lambda W, shape, fans, scale=1.0: [f"{W} = rng.standard_normal({shape}) * {_num(scale)}"],
    "uniform": lambda W, shape, fans, low=0.0, high=1.0: [f"{W} = rng.uniform({_num(low)}, {_num(high)}, {shape})"],
    "glorot_uniform": _uniform("np.sqrt(6.0 / ({0} + {1}))"),
    "glorot_normal": _normal("np.sqrt(2.0 / ({0} + {1}))"),
    "he_normal": _normal("np.sqrt(2.0 / {0})"),
    "he_uniform": _uniform("np.sqrt(6.0 / {0})"),
    "torch_linear_default": _uniform("1.0 / np.sqrt({0})"),
}
# what the kernels' draw is called, said once above them
NAMES = {"zeros": "all zeros", "normal": "N(0, scale^2)", "uniform": "U(low, high)",
         "glorot_uniform": "Glorot uniform: sqrt(6 / (fan_in + fan_out))",
         "glorot_normal": "Glorot normal: sqrt(2 / (fan_in + fan_out))",
         "he_normal": "He normal: std sqrt(2 / fan_in)", "he_uniform": "He uniform: limit sqrt(6 / fan_in)",
         "torch_linear_default": "nn.Linear's own default: limit 1 / sqrt(fan_in)"}
BIASES = ("zeros", "torch_linear_default")  # the bias initializers written (drawn after their kernel)
KERNEL_ARGS = {"normal": {"scale"}, "uniform": {"low", "high"}}


def weights_unsupported(lesson: Lesson) -> str | None:
    if lesson.fixed_params:
        return None
    if lesson.init not in KERNELS:
        return f"the kernel initializer {lesson.init!r} (written: {', '.join(KERNELS)})"
    extra = set(dict(lesson.init_args)) - KERNEL_ARGS.get(lesson.init, set())
    if extra:
        return f"the {lesson.init} initializer with {', '.join(sorted(extra))} (not written yet)"
    if lesson.use_bias and lesson.bias_init not in BIASES:
        return f"the bias initializer {lesson.bias_init!r} (written: {', '.join(BIASES)})"
    return None


def _literal(value, indent: str = "") -> str:
    """A nested tuple as a list literal; a matrix of several rows gets a line per row."""
    if not isinstance(value, (tuple, list)):
        return _num(value)
    rows = [_literal(v) for v in value]
    if len(rows) > 1 and isinstance(value[0], (tuple, list)) and len(value[0]) > 1:
        return "[" + f",\n{indent} ".join(rows) + "]"
    return "[" + ", ".join(rows) + "]"


def _layer(lesson: Lesson, W: str, b: str, fan_in, units) -> list[str]:
    """One layer's kernel then bias (``fan_in``, ``units``: numbers, or the loop's variable names)."""
    lines = KERNELS[lesson.init](W, f"({fan_in}, {units})", (fan_in, units), **dict(lesson.init_args))
    if not lesson.use_bias:
        return lines
    if lesson.bias_init == "zeros":
        return lines + [f"{b} = np.zeros({units})"]
    if lesson.init != "torch_linear_default":  # torch_linear_default: U(+-1/sqrt(fan_in)), as its kernel
        lines.append(f"limit = 1.0 / np.sqrt({fan_in})  # nn.Linear's bias")
    return lines + [f"{b} = rng.uniform(-limit, limit, {units})"]


def _seed(lesson: Lesson) -> list[str]:
    lines = []
    if lesson.init != "zeros" or (lesson.use_bias and lesson.bias_init != "zeros"):
        lines.append(f"rng = np.random.default_rng({lesson.seed})  # weights' seed")
    return lines + [f"# {NAMES[lesson.init]}"]


def weight_lines(lesson: Lesson) -> list[str]:
    """The initial-weights step's NumPy lines: ``W1 = ...``, ``b1 = ...``, ... for every layer."""
    if lesson.fixed_params:
        return ["# the lesson's own starting weights"] + [
            f"{name} = np.array({_literal(value, ' ' * (len(name) + 12))})" for name, value in lesson.fixed_params]
    lines = _seed(lesson)
    for i, (fan_in, units) in enumerate(zip(lesson.sizes[:-1], lesson.sizes[1:]), start=1):
        lines += _layer(lesson, f"W{i}", f"b{i}", fan_in, units)
    return lines


def weight_loop_lines(lesson: Lesson) -> list[str]:
    """The same draws in a loop over ``sizes`` (defined by the model step), into the lists ``Ws`` and ``bs``."""
    body = _layer(lesson, "W", "b", "fan_in", "units") + ["Ws.append(W)", "bs.append(b)"]
    return _seed(lesson) + ["Ws, bs = [], []", "for fan_in, units in zip(sizes[:-1], sizes[1:]):"] + [
        "    " + line for line in body]
