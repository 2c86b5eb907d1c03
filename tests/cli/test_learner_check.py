"""`nnparity check` on learners' code: the bug zoo, code it has never seen, and input it cannot use.

Every case runs the real command in-process (`nnparity.cli.main`) and reads its JSON verdict.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.lessons import LESSONS
from frameworks import available_frameworks
from nnparity.cli import main
from nnparity.learner.diagnose import unsupported

ZOO = Path(__file__).resolve().parents[2] / "examples" / "learners"
FRAMEWORKS = available_frameworks()
pytestmark = pytest.mark.skipif(not FRAMEWORKS, reason="no framework installed to compare against")


def check(target, lesson, tmp_path, capsys=None):
    """Run `nnparity check` on every installed framework; return (exit status, JSON verdict)."""
    out = tmp_path / "verdict.json"
    argv = ["check", str(target), "--lesson", lesson, "--json", str(out)]
    for fw in FRAMEWORKS:
        argv += ["--framework", fw]
    rc = main(argv)
    return rc, json.loads(out.read_text())


# file:class -> (lesson, {(check, parameter) that must diverge}, words the cause must contain)
CORRECT = {
    "correct_inplace.py:NeuralNetwork": "circles",
    "correct_update.py:MLP": "sigmoid-mlp",
    "correct_softmax.py:SensorNet": "sensor",
    "correct_column_vectors.py:DeepNet": "tanh-4-5-4-1",
    "correct_xor_square.py:XorNet": "xor-mse",
    "layernorm_class.py:LayerNormNet": "spiral-layernorm",  # gamma1, beta1, ... found by name
}
G = "gradient"
MISTAKES = {
    "sigmoid_derivative_of_z.py:MLP": ("sigmoid-mlp", {(G, "W1"), (G, "b1")}, "applied to z"),
    "missing_one_over_m.py:NeuralNetwork": ("circles", {(G, "W1"), (G, "b1"), (G, "W2"), (G, "b2")},
                                            "missing 1/m"),
    "bias_gradient_summed.py:NeuralNetwork": ("spiral", {(G, "b1")}, "np.sum(dz)"),
    "bias_gradient_wrong_axis.py:NeuralNetwork": ("sensor", {(G, "b1"), (G, "b2")}, "wrong axis"),
    "relu_derivative_from_activation.py:NeuralNetwork": ("circles", {(G, "W1"), (G, "b1")}, "(a >= 0)"),
    "forward_without_bias.py:NeuralNetwork": ("spiral", {("forward", "b1"), (G, "W1"), (G, "b1"), (G, "W2"),
                                                          (G, "b2")}, "does not depend on b1"),
    "softmax_wrong_axis.py:NeuralNetwork": ("sensor", {("forward", None), (G, "W1"), (G, "b1"), (G, "W2"),
                                                        (G, "b2")}, "axis=1"),
    "update_wrong_sign.py:NeuralNetwork": ("circles", {(G, "W1"), (G, "b1"), (G, "W2"), (G, "b2")}, "wrong sign"),
    "parameter_never_updated.py:MLP": ("sigmoid-mlp", {(G, "b2")}, "never updated"),
    "backprop_through_updated_weights.py:NeuralNetwork": ("circles", {(G, "W1"), (G, "b1")}, "already updated"),
    "mse_gradient_with_bce.py:NeuralNetwork": ("circles", {(G, "W1"), (G, "b1"), (G, "W2"), (G, "b2")},
                                               "MSE's"),
    "hardcoded_learning_rate.py:MLP": ("sigmoid-mlp", {(G, "W1"), (G, "b1"), (G, "W2"), (G, "b2")},
                                       "learning rate"),
    "layernorm_class_batch_axis.py:LayerNormNet": (
        "spiral-layernorm", {("forward", None), *((G, p) for l in (1, 2, 3) for p in (f"W{l}", f"b{l}")),
                             *((G, p) for l in (1, 2) for p in (f"gamma{l}", f"beta{l}"))},
        "normalises each unit over the batch"),
}


def test_every_zoo_class_is_in_a_table():
    """A class example names itself as `FILE.py:Class` in its docstring's command (scripts, without
    a class, and classes with their own optimizer, --optimizer, are tests/cli/test_learner_scripts.py's)."""
    listed = {t.split(":")[0] for t in (*CORRECT, *MISTAKES)}
    assert listed == {p.name for p in ZOO.glob("*.py") if f"{p.name}:" in (text := p.read_text())
                      and "--optimizer" not in text}


@pytest.mark.parametrize("target", sorted(CORRECT))
def test_correct_learner_passes(target, tmp_path):
    rc, verdict = check(ZOO / target, CORRECT[target], tmp_path)
    assert (rc, verdict["passed"], verdict["divergences"]) == (0, True, [])
    assert {r["parameter"] for r in verdict["results"] if r["check"] == "gradient"} == set(verdict["parameters"])
    for r in verdict["results"]:  # float64 code agrees to rounding, far inside the tolerance
        assert r["max_abs_err"] < 1e-13, r


@pytest.mark.parametrize("target", sorted(MISTAKES))
def test_mistake_is_caught_and_attributed(target, tmp_path):
    lesson, diverging, cause = MISTAKES[target]
    rc, verdict = check(ZOO / target, lesson, tmp_path)
    assert rc == 1 and verdict["passed"] is False
    assert {(d["check"], d["parameter"]) for d in verdict["divergences"]} == diverging
    first = verdict["divergences"][0]
    assert cause in first["cause"], first
    for d in verdict["divergences"]:
        assert d["cause"], f"{d['parameter']}: no cause given"
        assert d["max_abs_err"] is None or d["max_abs_err"] > 1e-6


def test_square_kernel_is_probed_not_guessed(tmp_path):
    """xor-mse's W1 is 2 x 2: the zoo stores it (out, in); the same class stored (in, out) also passes."""
    rc, verdict = check(ZOO / "correct_xor_square.py:XorNet", "xor-mse", tmp_path)
    assert rc == 0
    assert verdict["parameters"]["W1"]["layout"] == "(out, in)"
    assert "probing" in verdict["parameters"]["W1"]["how"]
    source = (ZOO / "correct_xor_square.py").read_text()
    flipped = (source.replace("self.W1 @ X.T", "(X @ self.W1).T")
                     .replace("self.W1 -= learning_rate * d_hidden @ X", "self.W1 -= learning_rate * (d_hidden @ X).T"))
    assert flipped != source
    path = tmp_path / "xor_in_out.py"
    path.write_text(flipped)
    rc, verdict = check(f"{path}:XorNet", "xor-mse", tmp_path)
    assert rc == 0, verdict
    assert verdict["parameters"]["W1"]["layout"] == "(in, out)"


# ---- code nnparity has never seen: one generic learner, in every layout and style, on every lesson ----

GENERIC = '''
import numpy as np

ORIENTATION, BIAS, STYLE, FLAT = {orientation!r}, {bias!r}, {style!r}, {flat!r}
ACTIVATIONS, LOSS, USE_BIAS = {activations!r}, {loss!r}, {use_bias!r}


def activate(name, z):
    if name == "relu":
        return np.maximum(z, 0)
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "step":
        return (z >= 0) * 1.0
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def derivative(name, z, a):
    # the perceptron's step: straight-through, the perceptron rule is gradient descent with step' := 1
    return {{"relu": (z > 0) * 1.0, "tanh": 1 - a ** 2, "sigmoid": a * (1 - a), "step": 1.0}}[name]


class Net:
    def __init__(self, *sizes):
        self.lr = 0.3
        self.sizes = sizes
        for l in range(1, len(sizes)):
            n_in, n_out = sizes[l - 1], sizes[l]
            setattr(self, f"W{{l}}", np.ones((n_in, n_out) if ORIENTATION == "in_out" else (n_out, n_in)))
            if USE_BIAS:
                setattr(self, f"b{{l}}", np.ones({{"flat": (n_out,), "row": (1, n_out), "col": (n_out, 1)}}[BIAS]))

    def kernel(self, l):
        W = getattr(self, f"W{{l}}")
        return W if ORIENTATION == "in_out" else W.T

    def forward(self, X):
        self.zs, self.acts = [], [X]
        a = X
        for l in range(1, len(self.sizes)):
            z = a @ self.kernel(l) + (getattr(self, f"b{{l}}").reshape(-1) if USE_BIAS else 0)
            a = activate(ACTIVATIONS[l - 1], z)
            self.zs.append(z)
            self.acts.append(a)
        return a.ravel() if FLAT else a

    def gradients(self, y):
        out = self.acts[-1]
        y = y.reshape(out.shape)
        m = out.shape[0]
        if LOSS in ("bce", "cce"):
            dz = (out - y) / m
        elif LOSS == "mse":
            dz = 2 * (out - y) / out.size * derivative(ACTIVATIONS[-1], self.zs[-1], out)
        else:  # half_sse
            dz = (out - y) * derivative(ACTIVATIONS[-1], self.zs[-1], out)
        grads = {{}}
        for l in range(len(self.sizes) - 1, 0, -1):
            dW = self.acts[l - 1].T @ dz
            grads[f"W{{l}}"] = dW if ORIENTATION == "in_out" else dW.T
            if USE_BIAS:
                grads[f"b{{l}}"] = dz.sum(axis=0).reshape(getattr(self, f"b{{l}}").shape)
            if l > 1:
                dz = (dz @ self.kernel(l).T) * derivative(ACTIVATIONS[l - 2], self.zs[l - 2], self.acts[l - 1])
        return grads

    def apply(self, grads, lr):
        for name, g in grads.items():
            setattr(self, name, getattr(self, name) - lr * g)

    if STYLE == "in_place":
        def backward(self, X, y, learning_rate):
            self.apply(self.gradients(y), learning_rate)
    elif STYLE == "self_lr":
        def backward(self, X, y, output):
            self.apply(self.gradients(y), self.lr)
    else:
        def backward(self, X, y, output):
            self.grads = self.gradients(y)

        def update(self):
            self.apply(self.grads, self.lr)
'''

LAYOUTS = {  # id -> (kernel orientation, bias shape, style, flat output)
    "in_out-row-in_place": ("in_out", "row", "in_place", False),
    "out_in-col-update": ("out_in", "col", "update", False),
    "out_in-flat-in_place-flat_output": ("out_in", "flat", "in_place", True),
    "in_out-col-self_lr-flat_output": ("in_out", "col", "self_lr", True),
}


def write_generic(tmp_path, lesson, layout, **changes) -> str:
    orientation, bias, style, flat = LAYOUTS[layout]
    flat = flat and lesson.sizes[-1] == 1
    source = GENERIC.format(orientation=orientation, bias=bias, style=style, flat=flat,
                            activations=list(lesson.activations), loss=lesson.loss, use_bias=lesson.use_bias)
    for old, new in changes.items():
        assert old in source
        source = source.replace(old, new)
    path = tmp_path / "generic_net.py"
    path.write_text(source)
    return f"{path}:Net"


CHECKABLE = sorted(name for name, lesson in LESSONS.items() if not unsupported(lesson))
# the generic learner is Dense layers only: a LayerNorm lesson's class is layernorm_class.py (CORRECT)
DENSE_ONLY = [name for name in CHECKABLE if not LESSONS[name].layernorm]


def test_lessons_with_layers_beyond_dense_are_refused_with_the_reason(tmp_path):
    refused = sorted(set(LESSONS) - set(CHECKABLE))
    assert refused, "the catalog has dropout and batch-norm lessons: they must be refused"
    for lesson in refused:
        rc, verdict = check(ZOO / "correct_inplace.py:NeuralNetwork", lesson, tmp_path)
        assert rc == 2 and "nnparity check supports" in verdict["error"], verdict


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("lesson", DENSE_ONLY)
def test_unseen_learner_passes_on_every_lesson(lesson, layout, tmp_path):
    rc, verdict = check(write_generic(tmp_path, LESSONS[lesson], layout), lesson, tmp_path)
    assert rc == 0, verdict["divergences"]


def test_unseen_learner_built_from_a_list_of_sizes(tmp_path):
    target = write_generic(tmp_path, LESSONS["tanh-4-5-4-1"], "out_in-col-update",
                           **{"def __init__(self, *sizes):": "def __init__(self, sizes, lr=0.01):",
                              "        self.lr = 0.3\n": "        self.lr = lr\n"})
    rc, verdict = check(target, "tanh-4-5-4-1", tmp_path)
    assert rc == 0 and verdict["constructed_as"] == "Net([4, 5, 4, 1])"


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("lesson", ["tanh-4-5-4-1", "keras-4-64-32-1", "sensor"])
def test_unseen_learner_with_a_broken_hidden_derivative_names_layer_one(lesson, layout, tmp_path):
    """Break only the derivative used to reach layer 1: exactly W1 and b1 diverge."""
    target = write_generic(tmp_path, LESSONS[lesson], layout, **{
        "dz = (dz @ self.kernel(l).T) * derivative(ACTIVATIONS[l - 2], self.zs[l - 2], self.acts[l - 1])":
        "dz = (dz @ self.kernel(l).T) * (derivative(ACTIVATIONS[l - 2], self.zs[l - 2], self.acts[l - 1]) "
        "if l > 2 else 1.0)"})
    rc, verdict = check(target, lesson, tmp_path)
    assert rc == 1
    assert {d["parameter"] for d in verdict["divergences"]} == {"W1", "b1"}


# ---- input nnparity cannot use: exit 2, a message naming the thing at fault, no traceback ----

GOOD = (ZOO / "correct_inplace.py").read_text()

UNUSABLE = {  # id -> (source or None for no file, target class, words the message must contain)
    "missing class": (GOOD, "Network", ["no class 'Network'", "NeuralNetwork"]),
    "syntax error": (GOOD.replace("def forward(self, X):", "def forward(self, X)"), "NeuralNetwork",
                     ["SyntaxError", "importing"]),
    "import crashes": ("import numpy as np\nraise RuntimeError('no data file')\n", "NeuralNetwork",
                       ["importing", "RuntimeError: no data file", "line 2"]),
    "constructor crashes": (GOOD.replace("rng = np.random.default_rng(0)", "rng = None.x"), "NeuralNetwork",
                            ["NeuralNetwork(2, 8, 1) raised AttributeError", "line 13: `rng = None.x`"]),
    "backward crashes": (GOOD.replace("dz2 = self.a2 - y", "dz2 = self.a2 - y.T @ y.T"), "NeuralNetwork",
                         ["backward(X, y, 0.1) raised ValueError", "dz2 = self.a2 - y.T @ y.T"]),
    "backward exits": (GOOD.replace("m = X.shape[0]", "import sys; sys.exit(3)"), "NeuralNetwork",
                       ["raised SystemExit"]),
    "kernel of the wrong shape": (GOOD.replace("(input_size, hidden_size))", "(input_size, 3))"), "NeuralNetwork",
                                  ["NeuralNetwork.W1 has shape (2, 3)", "expected (2, 8)", "(8, 2)"]),
    "bias of the wrong shape": (GOOD.replace("np.zeros((1, hidden_size))", "np.zeros((2, hidden_size))"),
                                "NeuralNetwork", ["b1 has shape (2, 8)", "(1, 8)"]),
    "missing bias": (GOOD.replace("self.b2 = np.zeros((1, output_size))", "self.c2 = np.zeros((1, output_size))"),
                     "NeuralNetwork", ["missing b2"]),
    "no parameters by those names": (GOOD.replace("self.W", "self.w").replace("self.b", "self.bias"),
                                     "NeuralNetwork", ["no attributes named W1", "w1"]),
    "parameter is a list": (GOOD.replace("self.b2 = np.zeros((1, output_size))", "self.b2 = [0.0]"),
                            "NeuralNetwork", ["b2 must be a NumPy array", "list"]),
    "forward returns the wrong shape": (GOOD.replace("return self.a2", "return self.a2.T"), "NeuralNetwork",
                                        ["forward(X) returned shape (1, 800)", "expected (800, 1)"]),
    "backward fits neither style": (GOOD.replace("def backward(self, X, y, learning_rate=0.1):",
                                                 "def backward(self, X, y, a1, a2, lr):"),
                                    "NeuralNetwork", ["fits neither lesson style"]),
    "constructor takes other arguments": (GOOD.replace("def __init__(self, input_size, hidden_size, output_size):",
                                                       "def __init__(self, a, b):"),
                                          "NeuralNetwork", ["cannot construct NeuralNetwork"]),
}


@pytest.mark.parametrize("case", sorted(UNUSABLE))
def test_unusable_input_exits_2_with_a_clear_message(case, tmp_path, capsys):
    source, cls, words = UNUSABLE[case]
    path = tmp_path / "learner.py"
    path.write_text(source)
    rc, verdict = check(f"{path}:{cls}", "circles", tmp_path)
    printed = capsys.readouterr()
    assert rc == 2 and verdict["passed"] is False
    for word in words:
        assert word in verdict["error"], (word, verdict["error"])
    assert "Traceback" not in printed.out + printed.err
    assert verdict["error"] in " ".join(printed.out.split()) or verdict["error"].split("\n")[0][:40] in printed.out


def test_missing_file_and_bad_target(tmp_path):
    rc, verdict = check(tmp_path / "nope.py:Net", "circles", tmp_path)
    assert rc == 2 and "no such file" in verdict["error"]
    rc, verdict = check(ZOO / "missing_one_over_m.py", "circles", tmp_path)  # no class named: run as a script
    assert rc == 2 and "missing_one_over_m.py:NeuralNetwork" in verdict["error"], verdict["error"]
    rc, verdict = check(ZOO / "correct_inplace.py", "circles", tmp_path)  # its __main__ block trains it: checked
    assert (rc, verdict["kind"], verdict["parameters"]["net.W1"]["shape"]) == (0, "script", [2, 8])


def test_unknown_lesson_is_a_usage_error(capsys):
    assert main(["check", f"{ZOO / 'correct_inplace.py'}:NeuralNetwork", "--lesson", "nope"]) == 2
    assert "unknown 'nope'" in capsys.readouterr().err


def test_learners_prints_do_not_reach_the_output(tmp_path, capsys):
    noisy = GOOD.replace("        m = X.shape[0]\n", "        print('epoch loss', 0.5)\n        m = X.shape[0]\n")
    noisy = "print('loading my network')\n" + noisy
    path = tmp_path / "noisy.py"
    path.write_text(noisy)
    rc, verdict = check(f"{path}:NeuralNetwork", "circles", tmp_path)
    out = capsys.readouterr().out
    assert rc == 0 and verdict["printed_lines"] == 2
    assert "epoch loss" not in out and "loading my network" not in out


def test_main_block_does_not_run(tmp_path):
    path = tmp_path / "with_main.py"
    path.write_text(GOOD + "\n\nif __name__ == '__main__':\n    raise SystemExit('must not run')\n")
    rc, _ = check(f"{path}:NeuralNetwork", "circles", tmp_path)
    assert rc == 0


def test_json_fields(tmp_path):
    rc, verdict = check(ZOO / "missing_one_over_m.py:NeuralNetwork", "circles", tmp_path)
    assert rc == 1
    assert {"passed", "divergences", "results", "lesson", "frameworks", "parameters", "style"} <= set(verdict)
    d = verdict["divergences"][0]
    assert {"check", "parameter", "max_abs_err", "max_rel_err", "cause", "frameworks"} <= set(d)
    assert d["check"] in ("forward", "gradient") and isinstance(d["max_abs_err"], float)
    assert set(d["frameworks"]) == set(FRAMEWORKS)
