"""pytest-xdist puts every test of one framework on one worker: the node id -> framework rule."""

from __future__ import annotations

import importlib.util
import pathlib
from types import SimpleNamespace

import pytest

from conformance.cases import DTYPES, all_cases
from conformance.checks import CHECKS
from conformance.lessons import LESSONS
from conformance.tests.scheduling import framework_of, make_scheduler, scope_of
from frameworks import FRAMEWORKS, available_frameworks

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_every_conformance_case_goes_to_its_framework():
    """Including lessons named after a framework (keras-4-64-32-1 run in torch, torch-4-8-4-1 in keras)."""
    cases = all_cases(list(LESSONS), list(FRAMEWORKS), list(DTYPES))
    assert any(fw in case.lesson.split("-") and fw != case.framework for case in cases for fw in FRAMEWORKS)
    for case in cases:
        for check in CHECKS:
            nodeid = f"conformance/test_{check}.py::test_{check}[{case.id}]"
            assert framework_of(nodeid) == case.framework, nodeid


NODEIDS = (
    ("tests/engine/test_weight_transfer.py::test_round_trip_is_exact[keras-4-64-32-1-torch-float32]", "torch"),
    ("tests/engine/test_weight_transfer.py::test_round_trip_is_exact[xor-mse-keras-float64]", "keras"),
    ("tests/engine/test_weight_transfer.py::test_keras_stores_the_same_layout_in_float64", "keras"),
    ("tests/engine/test_weight_transfer.py::test_torch_stores_the_transpose", "torch"),
    ("tests/cli/test_bench.py::test_every_impl_steps_like_the_reference[sensor-keras-float64]", "keras"),
    # a loss *convention* called "keras" is not the framework: no dtype follows it
    ("tests/reference/test_gradcheck.py::test_loss_backward[bce-keras]", None),
    ("tests/reference/test_gradcheck.py::test_mlp_gradients[keras-4-64-32-1]", None),
    ("tests/reference/test_reference.py::test_single_neuron_matches_the_lesson", None),
    ("tests/engine/test_compare.py::TestSomething::test_method", None),
)


@pytest.mark.parametrize("nodeid,framework", NODEIDS, ids=[f"nodeid{i}" for i in range(len(NODEIDS))])
def test_framework_of_a_node_id(nodeid, framework):
    assert framework_of(nodeid) == framework


def test_tests_naming_no_framework_join_the_first_one_installed():
    first = next(iter(available_frameworks()), "reference")
    assert scope_of("tests/teeth/test_teeth.py::test_broken_reference_fails_the_suite[softmax-wrong-axis]") == first
    assert scope_of("conformance/tests/test_step.py::test_step[spiral-keras-float32]") == "keras"


def _fake_config(dist):
    return SimpleNamespace(getoption=lambda name: {"dist": dist}[name],
                           getvalue=lambda name: {"tx": ["2*popen"]}[name])


def test_the_scheduler_splits_by_framework():
    pytest.importorskip("xdist")
    from xdist.scheduler import LoadScopeScheduling

    sched = make_scheduler(_fake_config("load"), None)
    assert isinstance(sched, LoadScopeScheduling) and sched.numnodes == 2
    assert sched._split_scope("conformance/tests/test_loss.py::test_loss[torch-4-8-4-1-keras-float64]") == "keras"


def test_conftest_installs_it_only_for_the_default_load_mode():
    pytest.importorskip("xdist")
    spec = importlib.util.spec_from_file_location("nnparity_root_conftest", ROOT / "conftest.py")
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    assert conftest.pytest_xdist_make_scheduler(_fake_config("load"), None) is not None
    for dist in ("loadfile", "loadscope", "worksteal", "each"):
        assert conftest.pytest_xdist_make_scheduler(_fake_config(dist), None) is None


def test_a_framework_name_with_a_hyphen(monkeypatch):
    import conformance.tests.scheduling as scheduling

    monkeypatch.setitem(scheduling.FRAMEWORKS, "keras-jax", ("frameworks.keras_jax_twin", ("keras", "jax")))
    assert framework_of("conformance/tests/test_step.py::test_step[spiral-keras-jax-float64]") == "keras-jax"
    assert framework_of("conformance/tests/test_step.py::test_step[spiral-keras-float64]") == "keras"
    assert framework_of("conformance/tests/test_step.py::test_step[keras-4-64-32-1-keras-jax-float32]") == "keras-jax"
