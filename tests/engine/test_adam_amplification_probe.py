"""The known difference ``float32-adam-amplified-gradient-rounding`` (conformance/known/adam_amplification.py).

Its mechanism without any framework: NumPy's own float32 run of a user's 2-8-8-1
lesson under Adam parts from the float64 reference by more than the float32 row
at a weight whose gradient cancels to 1e-8 out of terms of 0.1, and stays within
the bound. Its teeth: a wrong bias correction, a wrong beta_2 and a gradient off
by 0.1% are refused; so is a perturbed reference, end to end through ``run_check``.
And float64 is left alone.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

from conformance.cases import Case, CaseInputs, optimizer_of, reference_model
from conformance.checks import run_check
from conformance.compare import Comparison, ItemReport
from conformance.known import KNOWN_DIFFERENCES, known_differences
from conformance.known.adam_amplification import bound_path, explain, replay, update_at
from conformance.lesson_files import catalog_with
from conformance.lessons import get_lesson
from conformance.tolerances import tolerance
from frameworks import unavailable_reason
from nnparity.cli import main
from reference import get_optimizer
from reference.optimizers import Adam

NAME = "float32-adam-amplified-gradient-rounding"
# the lead's reproduction (issue 19's note): examples/lessons/my_lessons.py's rings under Adam 0.01, batches of 20
LESSON_FILE = '''
import numpy as np
from nnparity import Lesson


def rings():
    rng = np.random.default_rng(0)
    radius = np.repeat([1.0, 2.0], 50)
    angle = rng.uniform(0.0, 2 * np.pi, 100)
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]) + rng.normal(0.0, 0.1, (100, 2))
    return X, (radius == 2.0).astype(float)


LESSONS = [Lesson(name="rings-adam-2-8-8-1", sizes=(2, 8, 8, 1), activations=("relu", "tanh", "sigmoid"),
                  loss="bce", init="he_normal", dataset=rings, optimizer="adam",
                  hyper={"learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
                  epochs=200, batch_size=20)]
'''
STEPS = 10
TOOL = Path(__file__).resolve().parents[2] / "tools" / "measure_adam_amplification.py"
LESSONS_ADDED: dict = {}  # lesson name -> the file the fixture wrote
needs_torch = pytest.mark.skipif(unavailable_reason("torch") is not None, reason=str(unavailable_reason("torch")))


@pytest.fixture(scope="module")
def rings(tmp_path_factory):
    path = tmp_path_factory.mktemp("lessons") / "rings_adam.py"
    path.write_text(LESSON_FILE)
    with catalog_with([path]) as (name,):
        LESSONS_ADDED[name] = path
        yield get_lesson(name)


def _float32_model(lesson, params):
    return reference_model(lesson, {k: np.asarray(v, np.float32) for k, v in params.items()}, "torch", "float32",
                           framework="torch", dtype="float32")


def _bound(lesson, framework_path, framework_gradient=None, optimizer=None):
    """bound_path of the torch-convention case, for a 'framework' path made by the test."""
    inputs = CaseInputs.build(lesson, "float32")
    name, hyper = optimizer_of(lesson)
    framework_path[0] = inputs.ref_params
    return bound_path(lesson, inputs.ref_X, inputs.ref_y, inputs.batches(STEPS),
                      lambda p: reference_model(lesson, p, "torch", "float32", framework="torch"),
                      optimizer or get_optimizer(name, convention="torch", **hyper), framework_path, framework_gradient)


def _numpy_float32_run(lesson):
    """NumPy's own float32 run (the reference computing in float32) and its float32 gradient at any weights."""
    inputs = CaseInputs.build(lesson, "float32")
    name, hyper = optimizer_of(lesson)
    X32, y32 = inputs.ref_X.astype(np.float32), inputs.ref_y.astype(np.float32)
    path = _float32_model(lesson, inputs.ref_params).train(X32, y32, get_optimizer(name, convention="torch", **hyper),
                                                            inputs.batches(STEPS), record=range(1, STEPS + 1))
    return path, lambda params, idx: _float32_model(lesson, params).gradients(X32[idx], y32[idx])


def _reference_run(lesson, optimizer):
    """The float64 reference run with ``optimizer`` (a planted mistake), rounded to float32 like a framework's."""
    inputs = CaseInputs.build(lesson, "float32")
    path = inputs.reference_model("torch").train(inputs.ref_X, inputs.ref_y, optimizer, inputs.batches(STEPS),
                                                 record=range(1, STEPS + 1))
    return {k: {n: v.astype(np.float32) for n, v in p.items()} for k, p in path.items()}


def test_numpy_float32_parts_over_the_float32_row_and_stays_within_the_bound(rings):
    """The failure exists without a framework (W2[5, 7]: measured 1.2e-5 after 10 steps), and is explained."""
    path, gradient = _numpy_float32_run(rings)
    bound = _bound(rings, path, gradient)
    row = tolerance("float32", "trajectory@10")
    apart = bound.apart[STEPS]["W2"]
    assert apart[5, 7] > row.atol + row.rtol * abs(path[STEPS]["W2"][5, 7])  # over the float32 row
    # a cancelling sum: the gradient there (6.9e-9) is below its own float32 rounding bound (1.6e-7)
    assert bound.gradient[STEPS]["W2"][5, 7] < bound.rounding[STEPS]["W2"][5, 7]
    assert bound.within()
    assert apart[5, 7] <= bound.bound[STEPS]["W2"][5, 7]


def test_the_reference_given_the_float32_gradient_errors_ends_where_numpy_float32_ends(rings):
    """The mechanism, measured: only the gradients' float32 rounding, through Adam in float64, parts the runs."""
    path, gradient = _numpy_float32_run(rings)
    bound = _bound(rings, path, gradient)
    inputs = CaseInputs.build(rings, "float32")
    name, hyper = optimizer_of(rings)
    replayed = replay(inputs.ref_X, inputs.ref_y, inputs.batches(STEPS),
                      lambda p: reference_model(rings, p, "torch", "float32", framework="torch"),
                      get_optimizer(name, convention="torch", **hyper), inputs.ref_params, bound.error)
    row = tolerance("float32", "trajectory@10")
    to_replay = max(np.max(np.abs(replayed[STEPS][n] - path[STEPS][n])) for n in path[STEPS])
    assert to_replay <= row.atol < bound.apart[STEPS]["W2"][5, 7]


def test_a_wrong_bias_correction_is_not_within_the_bound(rings):
    name, hyper = optimizer_of(rings)
    wrong = get_optimizer(name, convention="torch", **hyper)
    wrong.iterations = 1  # every step takes the bias corrections of the next: 1 - beta**(t + 1)
    assert not _bound(rings, _reference_run(rings, wrong)).within()


def test_a_wrong_beta_2_is_not_within_the_bound(rings):
    name, hyper = optimizer_of(rings)
    assert not _bound(rings, _reference_run(rings, get_optimizer(name, convention="torch",
                                                                 **{**hyper, "beta_2": 0.99}))).within()


def test_a_gradient_off_by_a_thousandth_is_not_rounding(rings):
    """The path is NumPy's float32 run (within the bound), but the gradient it reports is 0.1% off."""
    path, gradient = _numpy_float32_run(rings)
    off = lambda params, idx: {k: v * 1.001 for k, v in gradient(params, idx).items()}
    assert not _bound(rings, path, off).within()


@pytest.mark.parametrize("convention", ["torch", "keras"])
def test_the_update_at_given_moments_is_the_reference_step(convention):
    """update_at (the bound's corners) is the reference's own step, and the box's corners bound its inside."""
    rng = np.random.default_rng(0)
    opt = get_optimizer("adam", convention=convention, learning_rate=0.01, epsilon=1e-7)
    g1, g2 = rng.normal(size=50) * 1e-6, rng.normal(size=50) * 1e-6
    p, state = np.zeros(50), {}
    for opt.iterations, g in ((1, g1), (2, g2)):
        before = p.copy()
        opt.update_parameter(p, g, state)
    float64 = tolerance("float64")  # the same formula, rounded in its own order (before - p loses a few bits)
    np.testing.assert_allclose(update_at(opt, 2, state["m"], state["v"]), before - p, rtol=float64.rtol,
                               atol=float64.atol)
    m, v = state["m"], state["v"]
    corners = [update_at(opt, 2, mm, vv) for mm in (m - 1e-7, m + 1e-7) for vv in (v * 0.5, v * 2)]
    low, high = np.minimum.reduce(corners), np.maximum.reduce(corners)
    for _ in range(20):
        inside = update_at(opt, 2, m + rng.uniform(-1e-7, 1e-7, 50), v * rng.uniform(0.5, 2, 50))
        assert np.all(low <= inside) and np.all(inside <= high)


def test_it_applies_to_float32_adam_only():
    assert NAME in [d.name for d in known_differences("torch", "float32", "trajectory")]
    assert NAME not in [d.name for d in known_differences("torch", "float64", "trajectory")]
    spiral = get_lesson("spiral")  # SGD: lr times a rounding error is below any tolerance
    failed = ItemReport(name="W2@10", shape=(1,), n_total=1, n_mismatched=1, max_abs_err=1e-5, max_abs_index=(0,),
                        max_rel_err=1.0, max_rel_index=(0,), worst_ratio=2.0)
    comparison = Comparison("trajectory", 5e-6, 5e-6, [failed])
    assert explain(CaseInputs.build(spiral, "float32"), Case("spiral", "torch", "float32"), comparison) is None
    assert KNOWN_DIFFERENCES[NAME].bound is None  # judged by its probe alone: no looser tolerance


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_the_framework_run_is_a_known_difference_with_its_numbers_and_float64_passes(rings, framework):
    """Measured: W2[5, 7] 1.5e-5 (torch) and 6.2e-5 (Keras) from the reference after 10 steps; the replay 1.5e-7
    and 9.1e-7 from the framework over every entry."""
    if unavailable_reason(framework):
        pytest.skip(unavailable_reason(framework))
    result = run_check("trajectory", Case(rings.name, framework, "float32"))
    assert result.status == "known" and result.known == NAME, result.comparison.message()
    evidence = result.info[NAME]
    assert evidence["entry"] == "W2[5, 7] after 10 steps"
    assert evidence["difference"] <= evidence["bound"]
    assert evidence["gradient_error"] <= evidence["rounding_bound"] and evidence["closest"] <= 1
    assert evidence["message"].startswith("explained: Adam amplified float32 gradient rounding of size")
    # measured beside the bound: the reference given torch's own gradient errors ends where torch ends
    # (1.5e-7 over every entry), far closer than the reference itself (1.5e-5)
    row = tolerance("float32", "trajectory@10")
    assert evidence["replay_apart"] <= row.atol < evidence["difference"]
    assert run_check("trajectory", Case(rings.name, framework, "float64")).status == "passed"


@needs_torch
def test_the_step_check_is_judged_on_one_full_batch_step(rings):
    """A failed step check (items without @k): the probe retrains one full-batch step and bounds it."""
    failed = ItemReport(name="W2", shape=(8, 8), n_total=64, n_mismatched=1, max_abs_err=1e-5, max_abs_index=(5, 7),
                        max_rel_err=1.0, max_rel_index=(5, 7), worst_ratio=2.0)
    evidence = explain(CaseInputs.build(rings, "float32"), Case(rings.name, "torch", "float32"),
                       Comparison("step", 5e-6, 5e-6, [failed]))
    assert evidence is not None and evidence["entry"] == "W2[5, 7] after 1 step"
    assert evidence["closest"] <= 1


@needs_torch
def test_nnparity_run_counts_it_known_and_prints_the_verdict(rings, capsys):
    path = Path(LESSONS_ADDED[rings.name])
    rc = main(["run", "--lessons", str(path), "--framework", "torch", "--dtype", "float32", "--check", "trajectory",
               "--jobs", "1"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert f"known difference {NAME}" in out and "1 known differences" in out
    assert "explained: Adam amplified float32 gradient rounding of size" in out


@needs_torch
def test_a_perturbed_reference_still_fails(rings, monkeypatch):
    """The reference's Adam with its first moment's bias correction left out: the case fails, unexplained."""
    right = Adam.update_parameter

    def without_first_correction(self, p, g, state):
        t = self.iterations
        before = p.copy()
        right(self, p, g, state)
        p[...] = before + (p - before) * (1 - self.beta_1**t)
    monkeypatch.setattr(Adam, "update_parameter", without_first_correction)
    result = run_check("trajectory", Case(rings.name, "torch", "float32"))
    assert result.status == "failed" and result.known is None
    assert math.isfinite(result.comparison.max_abs_err)


@needs_torch
def test_the_measuring_tool_prints_the_table(rings, capsys):
    """tools/measure_adam_amplification.py, which printed docs/optimizers.md's numbers: the row of each step."""
    spec = importlib.util.spec_from_file_location("measure_adam_amplification", TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.main(["--lessons", str(LESSONS_ADDED[rings.name]), "--lesson", rings.name, "--steps", "2"])
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{rings.name}-torch-float32, W2[5, 7]"  # the entry furthest apart after 2 steps
    assert [line.split()[0] for line in out[2:4]] == ["1", "2"]
    assert out[-1].startswith("every entry within its bound at every step: True")
