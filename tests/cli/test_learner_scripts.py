"""`nnparity check SCRIPT.py --lesson NAME`: learners' scripts judged from their first update, and stopped there.

Every case runs the real command in-process (`nnparity.cli.main`), which runs the script in a child
process, and reads the JSON verdict. The default comparison is the NumPy reference (no framework
needed); one test compares a script with PyTorch directly.
"""

from __future__ import annotations

import dataclasses

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import nnparity
from conformance import datasets
from conformance.lessons import get_lesson, lesson_data
from frameworks import available_frameworks, missing_reason
from nnparity.cli import main
from nnparity.learner.data import cache_path, check_data

ZOO = Path(__file__).resolve().parents[2] / "examples" / "learners"
G = "gradient"


def check(target, lesson, tmp_path, *extra):
    """Run `nnparity check` on a script; return (exit status, JSON verdict)."""
    out = tmp_path / "verdict.json"
    rc = main(["check", str(target), "--lesson", lesson, "--json", str(out), *extra])
    return rc, json.loads(out.read_text())


CORRECT = {
    "spiral_script.py": "spiral",
    "xor_script.py": "xor-mse",
    "xor_step_by_step.py": "xor-mse",
    "script_with_class.py": "circles",
    "script_column_vectors.py": "tanh-4-5-4-1",
    "neuron_script.py": "neuron",  # a vector of weights and a number for the bias
    "perceptron_script.py": "perceptron-and",  # one sample at a time: the pass is the first sample's
    "spiral_batchnorm_script.py": "spiral-batchnorm",  # gamma, beta; running statistics that are not trained
    "spiral_dropout_script.py": "spiral-dropout",  # the masks read back from the loop
    "spiral_layernorm_script.py": "spiral-layernorm",  # gamma, beta beside a bias of the same shape
}
ALL = {"W1", "b1", "W2", "b2"}
LN_ALL = {"W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"}  # spiral-layernorm's
LN_BELOW_2 = {"W1", "b1", "gamma1", "beta1", "W2", "b2"}  # what a wrong dL/dz2 reaches
# script -> (lesson, {(check, the learner's name) that must diverge}, words of the cause, first wrong intermediate)
MISTAKES = {
    "spiral_script_divides_twice.py": ("spiral", {(G, p) for p in ALL}, "divided by the batch size twice", None),
    "script_missing_one_over_m.py": ("circles", {(G, p) for p in ALL}, "missing 1/m", None),
    "script_sigmoid_derivative_of_z.py": ("sigmoid-mlp", {(G, "W1"), (G, "b1")}, "applied to z", "dL/dz1"),
    "script_update_wrong_sign.py": ("tanh-4-5-4-1", {(G, p) for p in (*ALL, "W3", "b3")}, "wrong sign", None),
    "script_bias_summed_over_everything.py": ("spiral", {(G, "b1")}, "np.sum(dz)", None),
    "script_relu_derivative_from_activation.py": ("xor-relu", {(G, "W1"), (G, "b1")}, "(a >= 0)", "dL/dz1"),
    "script_updates_before_backprop.py": ("circles", {(G, "W1"), (G, "b1")}, "already updated", "dL/dz1"),
    "script_softmax_over_batch.py": ("sensor", {("forward", None), *((G, p) for p in ALL)}, "axis=1", "a2"),
    "script_hardcoded_learning_rate.py": ("sigmoid-mlp", {(G, p) for p in ALL}, "learning rate", None),
    "neuron_script_missing_two.py": ("neuron", {(G, "w"), (G, "b")}, "the 2 of the MSE derivative", "dL/dz1"),
    "spiral_batchnorm_stats_constant.py": ("spiral-batchnorm", {(G, "W1"), (G, "gamma1"), (G, "beta1"), (G, "W2")},
                                           "first wrong intermediate is dL/dz2: your `dz in batchnorm_backward`",
                                           "dL/dz2"),
    "spiral_dropout_unscaled.py": ("spiral-dropout", {("forward", None), *((G, p) for p in (*ALL, "W3", "b3"))},
                                   "unscaled", "drop1"),
    "spiral_layernorm_batch_axis.py": ("spiral-layernorm", {("forward", None), *((G, p) for p in LN_ALL)},
                                       "normalises each unit over the batch", "xhat1"),
    "spiral_layernorm_eps_outside_sqrt.py": ("spiral-layernorm", {("forward", None), *((G, p) for p in LN_ALL)},
                                             "adds epsilon outside the square root", "xhat1"),
    "spiral_layernorm_keras_epsilon.py": ("spiral-layernorm", {("forward", None), *((G, p) for p in LN_ALL)},
                                          "epsilon is 0.001, Keras's default", "xhat1"),
    "spiral_layernorm_no_mean_path.py": ("spiral-layernorm", {(G, p) for p in LN_BELOW_2},
                                         "leaves out the path through each row's mean", "dL/dz2"),
    "spiral_layernorm_no_variance_path.py": ("spiral-layernorm", {(G, p) for p in LN_BELOW_2},
                                             "leaves out the path through each row's variance", "dL/dz2"),
}

# script -> (its --optimizer, the convention every step must match, or the mistake every step must show)
OPTIMIZERS = {
    "spiral_script_adam.py": ("adam", "torch", None),
    "spiral_script_momentum.py": ("momentum", "keras", None),
    "spiral_script_adam_no_bias_correction.py": ("adam", None, "no bias correction"),
}


def test_every_zoo_script_is_in_a_table():
    """A script example names itself as `FILE.py --lesson` (no class) in its docstring's command."""
    scripts = {p.name for p in ZOO.glob("*.py") if f"{p.name} --lesson" in p.read_text()}
    assert scripts == set(CORRECT) | set(MISTAKES) | set(OPTIMIZERS) | {"script_targets_broadcast.py"}


@pytest.mark.parametrize("script", sorted(CORRECT))
def test_correct_script_passes(script, tmp_path):
    rc, verdict = check(ZOO / script, CORRECT[script], tmp_path)
    assert (rc, verdict["passed"], verdict["divergences"], verdict["frameworks"]) == (0, True, [], ["reference"])
    assert verdict["kind"] == "script" and verdict["first_wrong_intermediate"] is None
    assert len([r for r in verdict["results"] if r["check"] == "gradient"]) == len(verdict["parameters"])
    for r in verdict["results"]:  # float64 code agrees to rounding, far inside the tolerance
        assert r["max_abs_err"] < 1e-13, r
    kept = [s for s in verdict["intermediates"] if s["status"] != "not kept"]
    assert kept and all(s["status"] in ("exact", "approximate") for s in kept)


@pytest.mark.parametrize("script", sorted(MISTAKES))
def test_script_mistake_is_caught_and_named(script, tmp_path):
    lesson, diverging, cause, wrong = MISTAKES[script]
    rc, verdict = check(ZOO / script, lesson, tmp_path)
    assert rc == 1 and verdict["passed"] is False
    assert {(d["check"], d["parameter"]) for d in verdict["divergences"]} == diverging
    assert cause in verdict["divergences"][0]["cause"], verdict["divergences"][0]
    assert all(d["cause"] for d in verdict["divergences"]), verdict["divergences"]
    first = verdict["first_wrong_intermediate"]
    assert (first and first["quantity"]) == wrong, first


def test_the_learners_own_names_are_reported(tmp_path):
    """XOR's weights_input_hidden / weights_hidden_output, += updates, no biases: named as written."""
    rc, verdict = check(ZOO / "xor_script.py", "xor-mse", tmp_path)
    assert rc == 0
    assert verdict["parameters"] == {
        "weights_input_hidden": {"shape": [2, 2], "layout": "(in, out)", "how": "from its shape"},
        "weights_hidden_output": {"shape": [2, 1], "layout": "(in, out)", "how": "from its shape"}}
    notes = {s["quantity"]: s["note"] for s in verdict["intermediates"]}
    assert "-dL/dz" in notes["dL/dz2"]  # error = y - output: the learner's sign convention, said so


def test_a_wrong_gradient_is_traced_to_its_line(tmp_path):
    rc, verdict = check(ZOO / "spiral_script_divides_twice.py", "spiral", tmp_path)
    source = (ZOO / "spiral_script_divides_twice.py").read_text().splitlines()
    made = verdict["gradient_lines"]["W1"]
    assert made["variable"] == "dL_dW1" and source[made["line"] - 1].strip().startswith("dL_dW1 = X.T @ dL_dz1 / N")
    applied = verdict["update_lines"]["W1"]
    assert source[applied - 1].strip() == "W1 -= learning_rate * dL_dW1"


def test_first_wrong_intermediate_names_the_line(tmp_path):
    rc, verdict = check(ZOO / "script_sigmoid_derivative_of_z.py", "sigmoid-mlp", tmp_path)
    first = verdict["first_wrong_intermediate"]
    source = (ZOO / "script_sigmoid_derivative_of_z.py").read_text().splitlines()
    assert first["variable"] == "delta1" and "sigmoid_prime(z1)" in source[first["line"] - 1]
    before = verdict["intermediates"][: [s["quantity"] for s in verdict["intermediates"]].index("dL/dz1")]
    assert [s["status"] for s in before] == ["exact"] * len(before)


@pytest.mark.skipif("torch" not in available_frameworks(), reason="torch is not installed")
def test_a_script_against_torch_directly(tmp_path):
    rc, verdict = check(ZOO / "spiral_script.py", "spiral", tmp_path, "--framework", "torch")
    assert rc == 0 and verdict["frameworks"] == ["torch"]


# ---- what never runs, and what is refused ----------------------------------------------------------------

PLAIN = """
import numpy as np
rng = np.random.default_rng(0)
X = rng.normal(size=(20, 2))
y = (X[:, :1] > 0).astype(float)
W1, b1 = rng.normal(size=(2, 8)), np.zeros(8)
W2, b2 = rng.normal(size=(8, 1)), np.zeros(1)
lr = 0.1
{before}
for epoch in range(100):
    z1 = X @ W1 + b1
    a1 = np.maximum(z1, 0)
    a2 = 1 / (1 + np.exp(-(a1 @ W2 + b2)))
    dz2 = (a2 - y) / len(X)
    dz1 = dz2 @ W2.T * (z1 > 0)
{update}
{after}
"""
UPDATE = """    W2 -= lr * a1.T @ dz2
    b2 -= lr * dz2.sum(axis=0)
    W1 -= lr * X.T @ dz1
    b1 -= lr * dz1.sum(axis=0)"""


def script(tmp_path, before="", update=UPDATE, after=""):
    path = tmp_path / "learner.py"
    path.write_text(PLAIN.format(before=textwrap.dedent(before), update=update, after=after))
    return path


def test_nothing_after_the_first_update_runs(tmp_path):
    marker = tmp_path / "after_first_epoch.txt"
    path = script(tmp_path, after=f"    open({str(marker)!r}, 'w').write('epoch done')")
    rc, verdict = check(path, "circles", tmp_path)
    assert rc == 0, verdict
    assert not marker.exists()


def test_a_parameter_never_updated_is_named_and_the_next_pass_never_runs(tmp_path):
    marker = tmp_path / "second_epoch.txt"
    update = UPDATE.replace("    b2 -= lr * dz2.sum(axis=0)\n", "")
    path = script(tmp_path, update=update, after=f"    if epoch == 1:\n        open({str(marker)!r}, 'w')")
    rc, verdict = check(path, "circles", tmp_path)
    assert rc == 1 and [(d["parameter"], "never updated" in d["cause"]) for d in verdict["divergences"]] == [("b2", True)]
    assert not marker.exists()


def test_a_loop_forever_before_any_update_is_stopped(tmp_path, capsys):
    path = script(tmp_path, before="while True:\n    pass")
    rc, verdict = check(path, "circles", tmp_path, "--time-limit", "2")
    assert rc == 2
    error = verdict["error"]
    assert "time limit of 2 s" in error, error
    # the line the child's tracer was on when its alarm fired (script_child.Watch.time_is_up): the loop's
    assert "It was at line" in error and ("`pass`" in error or "`while True:`" in error), error



def test_a_script_stuck_inside_c_code_is_stopped_with_its_line(tmp_path):
    # sum() over a range runs in C without giving SIGALRM's handler a turn: faulthandler's backstop ends the child
    # (script_child.BACKSTOP s later) and its dump names the line
    path = script(tmp_path, before="total = sum(range(10**12))")
    rc, verdict = check(path, "circles", tmp_path, "--time-limit", "1")
    assert rc == 2 and "time limit of 1 s" in verdict["error"], verdict["error"]
    assert "It was at line 9: `total = sum(range(10**12))`" in verdict["error"], verdict["error"]

@pytest.mark.parametrize("text, words", [
    ("import numpy as np\nW1 = np.ones((2, 8))\nW1 -= 0.1\n", "no loop"),
    (PLAIN.format(before="", update="    pass", after=""), "without its loop updating"),
    (PLAIN.format(before="lr = float(input('learning rate? '))", update=UPDATE, after=""), "waits for input"),
    (PLAIN.format(before="W1 = W1 @ np.ones((3, 3))", update=UPDATE, after=""), "ValueError"),
])
def test_a_script_that_cannot_be_checked_is_refused(tmp_path, text, words):
    path = tmp_path / "learner.py"
    path.write_text(text)
    rc, verdict = check(path, "circles", tmp_path, "--time-limit", "3")
    assert rc == 2 and verdict["divergences"] == []
    assert words in verdict["error"], verdict["error"]


def test_the_lesson_data_cache_gives_the_lessons_data_bit_for_bit(tmp_path, monkeypatch):
    monkeypatch.setenv("NNPARITY_CACHE", str(tmp_path / "cache"))
    lesson = get_lesson("circles")
    first = check_data(lesson)
    assert cache_path(lesson).is_file()
    second = check_data(lesson)  # read back from the file
    expected = lesson_data(lesson)
    for got in (first, second):
        assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(got, expected))
    cache_path(lesson).write_bytes(b"not an npz")  # a broken file is made again
    assert np.array_equal(check_data(lesson)[0], expected[0])



def test_a_user_s_own_data_is_never_kept_in_the_cache(tmp_path, monkeypatch):
    """A lesson file's data file can change under the same name: it is read afresh every time."""
    monkeypatch.setenv("NNPARITY_CACHE", str(tmp_path / "cache"))
    data = tmp_path / "mine.npz"
    np.savez(data, X=np.zeros((4, 2)), y=np.zeros((4, 1)))
    lesson = dataclasses.replace(get_lesson("spiral"), name="mine", dataset=str(data))
    assert check_data(lesson)[0].sum() == 0
    np.savez(data, X=np.ones((4, 2)), y=np.zeros((4, 1)))
    datasets._load_cached.cache_clear()  # as in the next `nnparity check`, a new process
    assert check_data(lesson)[0].sum() == 8
    assert not (tmp_path / "cache").exists()

# ---- nnparity.grade, for autograders ------------------------------------------------------------------------


def test_grade_gives_points_and_feedback(tmp_path):
    full = nnparity.grade(ZOO / "xor_step_by_step.py", "xor-mse", points=10)
    assert (full.points, full.max_points, full.passed) == (10.0, 10.0, True) and "PASS" in full.feedback
    points, feedback = nnparity.grade(ZOO / "script_sigmoid_derivative_of_z.py", "sigmoid-mlp", points=10)
    assert points == 6.0  # 3 of 5 quantities agree: the output, W2 and b2
    assert "applied to z" in feedback and "first wrong intermediate" in feedback
    broken = nnparity.grade(tmp_path / "missing.py", "spiral", points=10)
    assert (broken.points, broken.passed) == (0.0, False) and "no such file" in broken.feedback
    assert broken.verdict["error"]


def test_grade_refuses_an_unknown_lesson():
    with pytest.raises(ValueError, match="unknown lesson 'nope'"):
        nnparity.grade(ZOO / "spiral_script.py", "nope")


def test_import_nnparity_stays_light():
    code = ("import sys, nnparity; assert 'nnparity.learner' not in sys.modules; nnparity.grade; "
            "heavy = [m for m in ('torch', 'tensorflow', 'keras', 'sklearn') if m in sys.modules]; assert not heavy, heavy")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


KEEPS_INTERMEDIATES = '''
import numpy as np


class Net:
    def __init__(self, n_in, n_hidden, n_out):
        self.W1, self.b1 = np.ones((n_in, n_hidden)), np.zeros(n_hidden)
        self.W2, self.b2 = np.ones((n_hidden, n_out)), np.zeros(n_out)

    def forward(self, X):
        self.z1 = X @ self.W1 + self.b1
        self.a1 = 1 / (1 + np.exp(-self.z1))
        self.z2 = self.a1 @ self.W2 + self.b2
        self.a2 = 1 / (1 + np.exp(-self.z2))
        return self.a2

    def backward(self, X, y, learning_rate):
        self.dz2 = (self.a2 - y) / len(X)
        self.dz1 = (self.dz2 @ self.W2.T) * self.z1 * (1 - self.z1)  # the derivative taken of z
        self.W2 -= learning_rate * self.a1.T @ self.dz2
        self.b2 -= learning_rate * self.dz2.sum(axis=0)
        self.W1 -= learning_rate * X.T @ self.dz1
        self.b1 -= learning_rate * self.dz1.sum(axis=0)
'''


def test_a_class_reports_its_first_wrong_intermediate(tmp_path):
    path = tmp_path / "keeps.py"
    path.write_text(KEEPS_INTERMEDIATES)
    rc, verdict = check(f"{path}:Net", "sigmoid-mlp", tmp_path)
    assert rc == 1 and verdict["kind"] == "class"
    assert [(s["quantity"], s["status"], s["variable"]) for s in verdict["intermediates"]] == [
        ("z1", "exact", "self.z1"), ("a1", "exact", "self.a1"), ("z2", "exact", "self.z2"), ("a2", "exact", "self.a2"),
        ("dL/dz2", "exact", "self.dz2"), ("dL/dz1", "differs", "self.dz1")]
    assert verdict["first_wrong_intermediate"]["variable"] == "self.dz1"


# ---- the learner's own optimizer ---------------------------------------------------------------------------


def _optimizer_verdict(path, optimizer, tmp_path):
    rc, verdict = check(path, "spiral", tmp_path, "--optimizer", optimizer)
    gradients = [r for r in verdict["results"] if r["check"] == "gradient"]
    assert len(gradients) == 4 and all(r["passed"] for r in gradients), verdict  # read from the state: right
    return rc, verdict


@pytest.mark.parametrize("script", sorted(OPTIMIZERS))
def test_a_learners_optimizer_is_read_and_named(script, tmp_path):
    optimizer, convention, mistake = OPTIMIZERS[script]
    rc, verdict = _optimizer_verdict(ZOO / script, optimizer, tmp_path)
    steps = verdict["optimizer"]
    assert set(steps) == {"W1", "b1", "W2", "b2"}
    assert {s["convention"] for s in steps.values()} == {convention}
    if mistake is None:
        assert rc == 0
    else:
        assert rc == 1 and {(d["check"], d["parameter"]) for d in verdict["divergences"]} == {
            ("step", p) for p in ("W1", "b1", "W2", "b2")}
        assert all(mistake in s["mistake"] for s in steps.values())


ADAM = (ZOO / "spiral_script_adam.py").read_text()
RMSPROP_STEP = ("        m[i] = beta1 * m[i] + (1 - beta1) * grads[i]\n        v[i] = beta2 * v[i] + (1 - beta2) * grads[i] ** 2\n"
                "        m_hat = m[i] / (1 - beta1 ** t)\n        v_hat = v[i] / (1 - beta2 ** t)\n"
                "        params[i] -= learning_rate * m_hat / (np.sqrt(v_hat) + eps)")
MOMENTUM = (ZOO / "spiral_script_momentum.py").read_text()
VARIANTS = {  # what the learner wrote instead -> (optimizer, convention, mistake)
    "adam-keras": (ADAM.replace(
        "        params[i] -= learning_rate * m_hat / (np.sqrt(v_hat) + eps)",
        "        lr_t = learning_rate * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)\n"
        "        params[i] -= lr_t * m[i] / (np.sqrt(v[i]) + eps)"), "adam", "keras", None),
    "rmsprop-torch": (ADAM.replace(RMSPROP_STEP, "        v[i] = 0.99 * v[i] + 0.01 * grads[i] ** 2\n"
                                   "        params[i] -= learning_rate * grads[i] / (np.sqrt(v[i]) + eps)"),
                      "rmsprop", "torch", None),
    "rmsprop-keras": (ADAM.replace(RMSPROP_STEP, "        v[i] = 0.9 * v[i] + 0.1 * grads[i] ** 2\n"
                                   "        params[i] -= learning_rate * grads[i] / np.sqrt(v[i] + eps)"),
                      "rmsprop", "keras", None),
    "adam-one-step-late": (ADAM.replace("t = 0\n", "t = 1\n"), "adam", None, "one step late"),
    "adam-only-m-corrected": (ADAM.replace("np.sqrt(v_hat)", "np.sqrt(v[i])"), "adam", None, "only m"),
    "momentum-torch": (MOMENTUM.replace("vW1 = momentum * vW1 - learning_rate * dL_dW1\n    W1 += vW1",
                                        "vW1 = momentum * vW1 + dL_dW1\n    W1 -= learning_rate * vW1")
                       .replace("vb1 = momentum * vb1 - learning_rate * dL_db1\n    b1 += vb1",
                                "vb1 = momentum * vb1 + dL_db1\n    b1 -= learning_rate * vb1")
                       .replace("vW2 = momentum * vW2 - learning_rate * dL_dW2\n    W2 += vW2",
                                "vW2 = momentum * vW2 + dL_dW2\n    W2 -= learning_rate * vW2")
                       .replace("vb2 = momentum * vb2 - learning_rate * dL_db2\n    b2 += vb2",
                                "vb2 = momentum * vb2 + dL_db2\n    b2 -= learning_rate * vb2"), "momentum", "torch", None),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_each_optimizer_formula_is_told_apart(variant, tmp_path):
    text, optimizer, convention, mistake = VARIANTS[variant]
    assert text not in (ADAM, MOMENTUM)  # the variant was made
    path = tmp_path / "mine.py"
    path.write_text(text)
    rc, verdict = _optimizer_verdict(path, optimizer, tmp_path)
    steps = verdict["optimizer"].values()
    assert rc == (0 if mistake is None else 1)
    assert {s["convention"] for s in steps} == {convention}
    assert all(mistake in (s["mistake"] or "") for s in steps) if mistake else True


def test_targets_that_broadcast_are_explained(tmp_path):
    """y of shape (N,) against an output (N, 1): a2 - y is (N, N), and a product fails two lines later."""
    rc, verdict = check(ZOO / "script_targets_broadcast.py", "circles", tmp_path)
    assert rc == 2 and "ValueError" in verdict["error"]
    assert "dz2 is (160, 160): y has shape (160,)" in verdict["error"] and "reshape y" in verdict["error"]


def test_a_batchnorm_script_finds_gamma_and_beta_and_leaves_the_running_statistics(tmp_path):
    rc, verdict = check(ZOO / "spiral_batchnorm_script.py", "spiral-batchnorm", tmp_path)
    assert rc == 0
    assert list(verdict["parameters"]) == ["W1", "gamma1", "beta1", "W2", "gamma2", "beta2", "W3", "b3"]
    assert "BatchNorm epsilon 1e-05" in verdict["style"]
    source = (ZOO / "spiral_batchnorm_script.py").read_text()
    other_eps = tmp_path / "eps.py"  # the script's own epsilon is the one it is checked with
    other_eps.write_text(source.replace("eps = 1e-5", "eps = 1e-8"))
    rc, verdict = check(other_eps, "spiral-batchnorm", tmp_path)
    assert rc == 0 and "BatchNorm epsilon 1e-08" in verdict["style"]


def test_a_class_with_batchnorm_or_dropout_is_refused_with_the_reason(tmp_path):
    for lesson, words in (("spiral-batchnorm", "batch normalisation"), ("spiral-dropout", "dropout")):
        rc, verdict = check(f"{ZOO / 'correct_inplace.py'}:NeuralNetwork", lesson, tmp_path)
        assert rc == 2 and words in verdict["error"]


def test_a_dropout_script_must_keep_its_masks(tmp_path):
    """A mask used inline, never bound to a name, cannot be read back: refused, saying how to keep it."""
    source = (ZOO / "spiral_dropout_script.py").read_text()
    inline = tmp_path / "inline.py"
    inline.write_text(source.replace("    mask1 = (rng.random(a1.shape) >= p) / (1 - p)\n    h1 = a1 * mask1",
                                     "    h1 = a1 * ((rng.random(a1.shape) >= p) / (1 - p))")
                      .replace("* mask1 *", "* (h1 != 0) / (1 - p) *"))
    rc, verdict = check(inline, "spiral-dropout", tmp_path)
    assert rc == 2 and "Keep each mask in a variable" in verdict["error"], verdict["error"]


@pytest.mark.skipif(bool(missing_reason("torch")), reason=str(missing_reason("torch")))
def test_a_dropout_script_is_compared_with_the_reference_only(tmp_path):
    rc, verdict = check(ZOO / "spiral_dropout_script.py", "spiral-dropout", tmp_path, "--framework", "torch")
    assert rc == 2 and "reference only" in verdict["error"], verdict["error"]


def test_the_default_check_imports_no_framework(tmp_path):
    """The default comparison is the NumPy reference: neither torch, TensorFlow, Keras nor scikit-learn is imported
    (the lesson data cache is filled first, as a learner's first check of the lesson does)."""
    check_data(get_lesson("circles"))
    code = ("import sys; from nnparity.cli import main; "
            f"rc1 = main(['check', {str(ZOO / 'correct_inplace.py')!r} + ':NeuralNetwork', '--lesson', 'circles']); "
            f"rc2 = main(['check', {str(ZOO / 'spiral_script.py')!r}, '--lesson', 'spiral']); "
            "heavy = [m for m in ('torch', 'tensorflow', 'keras', 'jax', 'sklearn') if m in sys.modules]; "
            "assert (rc1, rc2, heavy) == (0, 0, []), (rc1, rc2, heavy)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("option, value", [("--lr", "0"), ("--time-limit", "-1"), ("--lr", "nan")])
def test_a_rate_or_time_that_is_not_positive_is_a_usage_error(option, value, capsys):
    assert main(["check", str(ZOO / "spiral_script.py"), "--lesson", "spiral", option, value]) == 2
    assert f"{option}: expected a positive number" in capsys.readouterr().err


ADAM_CLASS = (ZOO / "adam_class.py").read_text()
CLASS_VARIANTS = {  # the class's step -> (convention, mistake)
    "as written": (ADAM_CLASS, "torch", None),
    "no bias correction": (ADAM_CLASS.replace("m_hat = self.m[name] / (1 - self.beta1 ** self.t)", "m_hat = self.m[name]")
                           .replace("v_hat = self.v[name] / (1 - self.beta2 ** self.t)", "v_hat = self.v[name]"),
                           None, "no bias correction"),
    "keras": (ADAM_CLASS.replace(
        "            setattr(self, name, getattr(self, name) - learning_rate * m_hat / (np.sqrt(v_hat) + self.eps))",
        "            lr_t = learning_rate * np.sqrt(1 - self.beta2 ** self.t) / (1 - self.beta1 ** self.t)\n"
        "            setattr(self, name, getattr(self, name) - lr_t * self.m[name] / (np.sqrt(self.v[name]) + self.eps))"),
        "keras", None),
}


@pytest.mark.parametrize("variant", sorted(CLASS_VARIANTS))
def test_a_classs_own_adam_is_read_and_named(variant, tmp_path):
    text, convention, mistake = CLASS_VARIANTS[variant]
    path = tmp_path / "adam_class.py"
    path.write_text(text)
    rc, verdict = check(f"{path}:AdamMLP", "sigmoid-mlp", tmp_path, "--optimizer", "adam")
    assert all(r["passed"] for r in verdict["results"] if r["check"] in ("forward", "gradient")), verdict
    steps = verdict["optimizer"]
    assert set(steps) == {"W1", "b1", "W2", "b2"} and {s["convention"] for s in steps.values()} == {convention}
    assert steps["W1"]["state"] == ["self.m['W1']", "self.v['W1']"]
    assert rc == (0 if mistake is None else 1)
    if mistake:
        assert all(mistake in s["mistake"] for s in steps.values())


def test_a_classs_optimizer_state_must_be_named_after_its_parameter(tmp_path):
    path = tmp_path / "adam_list.py"
    listed = (ADAM_CLASS
              .replace("self.m = {name: np.zeros_like(getattr(self, name)) for name in names}",
                       "self.m = [np.zeros_like(getattr(self, name)) for name in names]")
              .replace("self.v = {name: np.zeros_like(getattr(self, name)) for name in names}",
                       "self.v = [np.zeros_like(getattr(self, name)) for name in names]")
              .replace("for name, g in grads.items():",
                       "for i, name in enumerate((\"W1\", \"b1\", \"W2\", \"b2\")):\n            g = grads[name]")
              .replace("self.m[name]", "self.m[i]").replace("self.v[name]", "self.v[i]"))
    assert "self.m[i]" in listed and "self.m[name]" not in listed
    path.write_text(listed)
    rc, verdict = check(f"{path}:AdamMLP", "sigmoid-mlp", tmp_path, "--optimizer", "adam")
    assert rc == 2 and "named after it" in verdict["error"], verdict["error"]
