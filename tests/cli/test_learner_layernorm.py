"""`nnparity check` on the LayerNorm lesson: the NumPy program of `nnparity show spiral-layernorm`, typed in
with each classic LayerNorm mistake, is judged and the mistake named; the replays that name them are told apart.

The zoo's LayerNorm scripts (examples/learners/spiral_layernorm_*.py) are in test_learner_scripts.py's tables.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from conformance.compare import compare
from conformance.lessons import canonical_params, get_lesson, lesson_data
from conformance.cases import reference_model
from conformance.tolerances import tolerance
from nnparity.cli import main
from nnparity.learner.layernorm_read import Variant, describe, replay, variants
from nnparity.programs import programs

ZOO = Path(__file__).resolve().parents[2] / "examples" / "learners"
LESSON = get_lesson("spiral-layernorm")
PROGRAM = programs(LESSON)["numpy"].text
LN_ALL = {"W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"}


def check_text(text: str, tmp_path, name="my_layernorm.py"):
    """Write ``text`` as a learner's script, run `nnparity check` on it; (exit status, JSON verdict)."""
    script, out = tmp_path / name, tmp_path / "verdict.json"
    script.write_text(text)
    rc = main(["check", str(script), "--lesson", LESSON.name, "--json", str(out)])
    return rc, json.loads(out.read_text())


def test_the_lessons_own_numpy_program_passes(tmp_path):
    """What `nnparity show spiral-layernorm` prints, typed in as it is: every parameter found, in the program's
    order, gamma and beta told from the bias of the same shape, each LayerNorm's xhat and output walked."""
    rc, verdict = check_text(PROGRAM, tmp_path)
    assert (rc, verdict["passed"]) == (0, True), verdict["divergences"]
    assert list(verdict["parameters"]) == ["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"]
    assert "LayerNorm epsilon 1e-05 (the lesson's)" in verdict["style"]
    walked = {s["quantity"]: (s["variable"], s["status"]) for s in verdict["intermediates"]}
    assert walked["xhat1"] == ("h1 in forward", "exact") and walked["ln2"] == ("n2 in forward", "exact")
    assert walked["dL/dln2"][0] == "dn2" and walked["dL/dz1"][0] == "dz1"


def _outside(text):
    return re.sub(r"np\.sqrt\((v\d) \+ eps\)", r"(np.sqrt(\1) + eps)", text)


def _batch_axis(text):
    return text.replace("(axis=1, keepdims=True)", "(axis=0, keepdims=True)")


def _no_mean(text):
    return re.sub(r"\((dh\d) - \1\.mean\(axis=1, keepdims=True\)", r"(\1", text)


def _no_variance(text):
    return re.sub(r"\n\s*- (h\d) \* \(dh\d \* \1\)\.mean\(axis=1, keepdims=True\)\)", ")", text)


def _keras_eps(text):
    return text.replace("eps = 1e-05", "eps = 0.001")


# the program with one mistake -> (what must diverge, words of the cause, the first wrong intermediate, its variable)
PROGRAM_MISTAKES = {
    "epsilon outside the root": (_outside, LN_ALL | {None}, "adds epsilon outside the square root", "xhat1", "h1"),
    "over the batch": (_batch_axis, LN_ALL | {None}, "normalises each unit over the batch", "xhat1", "h1"),
    "Keras's epsilon": (_keras_eps, LN_ALL | {None}, "epsilon is 0.001, Keras's default", "xhat1", "h1"),
    "no mean path": (_no_mean, {"W1", "b1", "gamma1", "beta1", "W2", "b2"},
                     "leaves out the path through each row's mean", "dL/dz2", "dz2"),
    "no variance path": (_no_variance, {"W1", "b1", "gamma1", "beta1", "W2", "b2"},
                         "leaves out the path through each row's variance", "dL/dz2", "dz2"),
    "mean and variance as constants": (lambda text: _no_mean(_no_variance(text)), {"W1", "b1", "gamma1", "beta1",
                                                                                   "W2", "b2"},
                                       "leaves out both paths", "dL/dz2", "dh2"),  # dz2 = (dh2): dh2's line made it
}


@pytest.mark.parametrize("mistake", sorted(PROGRAM_MISTAKES))
def test_the_program_with_a_layernorm_mistake_is_named(mistake, tmp_path):
    mutate, diverging, cause, quantity, variable = PROGRAM_MISTAKES[mistake]
    text = mutate(PROGRAM)
    assert text != PROGRAM, "the mutation no longer applies to the program's text"
    rc, verdict = check_text(text, tmp_path)
    assert rc == 1
    assert {d["parameter"] for d in verdict["divergences"]} == diverging
    assert all(cause in d["cause"] for d in verdict["divergences"]), verdict["divergences"]
    first = verdict["first_wrong_intermediate"]
    assert (first["quantity"], first["variable"].split(" ")[0]) == (quantity, variable), first


def test_two_mistakes_at_once_are_both_named(tmp_path):
    rc, verdict = check_text(_keras_eps(_outside(PROGRAM)), tmp_path)
    cause = verdict["divergences"][0]["cause"]
    assert rc == 1 and "outside the square root" in cause and "0.001, Keras's default" in cause, cause


def test_a_learning_rate_of_its_own_is_named_on_every_parameter_gamma_and_beta_too(tmp_path):
    """The update uses 0.1 where the script's learning_rate is 0.05: every gradient, the LayerNorm's ten
    parameters' included, is twice the right one, and no LayerNorm mistake is claimed."""
    rc, verdict = check_text(PROGRAM.replace("p -= learning_rate * g", "p -= 0.1 * g"), tmp_path)
    assert rc == 1 and {d["parameter"] for d in verdict["divergences"]} == LN_ALL
    assert all("off by the same factor 2" in d["cause"] for d in verdict["divergences"]), verdict["divergences"]


def test_the_scripts_own_epsilon_is_named_as_its_own(tmp_path):
    rc, verdict = check_text(PROGRAM.replace("eps = 1e-05", "eps = 1e-08"), tmp_path)
    cause = verdict["divergences"][0]["cause"]
    assert rc == 1 and "epsilon is 1e-08, your own: lesson spiral-layernorm gives 1e-05" in cause, cause


def test_a_mistake_no_replay_knows_is_traced_and_not_blamed_on_a_layernorm_mistake(tmp_path):
    """gamma2's gradient taken with z2 in place of its standardised h2: only gamma2 diverges, no LayerNorm replay
    matches (no cause is claimed), and the gradient is traced to the line that made it, not the update loop's `g`."""
    text = PROGRAM.replace("dgamma2, dbeta2 = (dn2 * h2).sum(axis=0)", "dgamma2, dbeta2 = (dn2 * z2).sum(axis=0)")
    rc, verdict = check_text(text, tmp_path)
    assert rc == 1 and [d["parameter"] for d in verdict["divergences"]] == ["gamma2"]
    assert verdict["divergences"][0]["cause"] is None and verdict["first_wrong_intermediate"] is None
    made = verdict["gradient_lines"]["gamma2"]
    assert made["variable"] == "dgamma2" and "(dn2 * z2)" in text.splitlines()[made["line"] - 1]


def test_the_right_variant_is_the_reference_and_every_mistake_moves_the_gradients():
    """The replay without mistakes is the reference; each single mistake (and each variant with two) changes some
    gradient beyond the float64 tolerance on the lesson's data and canonical weights, so each can be told apart."""
    params, (X, y) = canonical_params(LESSON), lesson_data(LESSON)
    tol = tolerance("float64")
    model = reference_model(LESSON, params)
    right = model.gradients(X, y)
    right.pop("X")
    out, grads = replay(LESSON, params, X, y, Variant())
    assert compare(grads, right, atol=tol.atol, rtol=tol.rtol).passed and np.array_equal(out, model.a[-1])
    found = variants(LESSON, {"eps": 1e-8, "lr": 0.05})
    assert {v.epsilon for v in found} == {None, 1e-3, 1e-8} and all(0 < v.mistakes <= 2 for v in found)
    seen = []
    for variant in found:
        _, wrong = replay(LESSON, params, X, y, variant)
        assert not compare(wrong, right, atol=tol.atol, rtol=tol.rtol).passed, variant
        assert not any(compare(wrong, other, atol=tol.atol, rtol=tol.rtol).passed for other in seen), variant
        seen.append(wrong)
        assert describe(variant, LESSON).count("your LayerNorm") == variant.mistakes


def test_a_class_on_the_layernorm_lesson_needs_gamma_and_beta_by_name(tmp_path):
    """The zoo's class with its LayerNorm's parameters called scale1, shift1, ...: refused, the names it needs given."""
    renamed = tmp_path / "renamed.py"
    renamed.write_text((ZOO / "layernorm_class.py").read_text().replace("gamma", "scale").replace("beta", "shift"))
    out = tmp_path / "verdict.json"
    rc = main(["check", f"{renamed}:LayerNormNet", "--lesson", LESSON.name, "--json", str(out)])
    error = json.loads(out.read_text())["error"]
    assert rc == 2 and "gamma1, beta1 .. gamma2, beta2 of each LayerNorm" in error and "missing" in error, error


def test_a_classs_own_epsilon_is_named_and_its_square_kernel_takes_the_others_layout(tmp_path):
    """The class's self.eps = 1e-3 (Keras's default) is named; W2 (16 x 16) after a LayerNorm is not probed (the
    LayerNorm mixes the units any probe would move) but takes the layout of W1 and W3."""
    source = (ZOO / "layernorm_class.py").read_text()
    keras_eps = tmp_path / "keras_eps.py"
    keras_eps.write_text(source.replace("self.eps = 1e-5", "self.eps = 1e-3"))
    out = tmp_path / "verdict.json"
    rc = main(["check", f"{keras_eps}:LayerNormNet", "--lesson", LESSON.name, "--json", str(out)])
    verdict = json.loads(out.read_text())
    assert rc == 1 and all("epsilon is 0.001, Keras's default" in d["cause"] for d in verdict["divergences"])
    assert verdict["parameters"]["W2"]["layout"] == "(in, out)" and "no probe" in verdict["parameters"]["W2"]["how"]


def test_a_gamma_left_out_shows_because_gamma_and_beta_are_given_the_lessons_values(tmp_path):
    """`n1 = h1 + beta1` computes the right numbers while gamma1 is 1: nnparity gives gamma and beta, still at 1 and
    0 at the loop's first line, the lesson's canonical values, so the forgotten gamma is found at its line."""
    text = PROGRAM.replace("n1 = gamma1 * h1 + beta1", "n1 = h1 + beta1")
    rc, verdict = check_text(text, tmp_path)
    assert rc == 1 and "your gamma1, beta1, gamma2, beta2 started at 1 and 0" in verdict["style"], verdict["style"]
    first = verdict["first_wrong_intermediate"]
    assert first["quantity"] == "ln1" and text.splitlines()[first["line"] - 1].strip() == "n1 = h1 + beta1"


def test_gamma_and_beta_that_do_not_start_at_one_and_zero_are_left_alone(tmp_path):
    start = "gamma1, beta1 = np.ones(16), np.zeros(16)"
    assert start in PROGRAM
    rc, verdict = check_text(PROGRAM.replace(start, "gamma1, beta1 = np.full(16, 1.25), np.full(16, 0.1)"), tmp_path)
    assert rc == 0 and "your gamma2, beta2 started at 1 and 0" in verdict["style"], verdict["style"]
    assert "gamma1" not in verdict["style"].split("started at")[0].split(";")[-1]


def test_a_layernorm_script_with_its_own_momentum(tmp_path):
    """The zoo's LayerNorm script with torch's momentum: each parameter's state (v_b1, v_gamma1, v_beta1: three
    arrays of one shape per layer) goes with its parameter, no state is taken for a gamma or beta to start
    (v_beta1 is all 0), and every step reads as torch's."""
    source = (ZOO / "spiral_layernorm_script.py").read_text()
    names = ["W3", "b3", "W2", "b2", "gamma2", "beta2", "W1", "b1", "gamma1", "beta1"]
    plain = "".join(f"    {n} -= lr * d{n}\n" for n in names)
    assert plain in source
    source = source.replace(plain, "".join(f"    v_{n} = mu * v_{n} + d{n}\n    {n} -= lr * v_{n}\n" for n in names))
    source = source.replace("lr = 0.05\n", "lr = 0.05\nmu = 0.9\n" + "".join(f"v_{n} = np.zeros_like({n})\n"
                                                                          for n in names))
    script, out = tmp_path / "ln_momentum.py", tmp_path / "verdict.json"
    script.write_text(source)
    rc = main(["check", str(script), "--lesson", LESSON.name, "--optimizer", "momentum", "--json", str(out)])
    verdict = json.loads(out.read_text())
    assert rc == 0, verdict["divergences"]
    assert {p: (o["state"], o["convention"]) for p, o in verdict["optimizer"].items()} == {
        n: ([f"v_{n}"], "torch") for n in names}
    assert "your gamma1, beta1, gamma2, beta2 started at 1 and 0" in verdict["style"]
