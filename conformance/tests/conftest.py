"""Parametrizes every conformance test over (lesson, framework, dtype) cases.

A test that takes ``case`` runs once per case, with ids like ``spiral-torch-float64``.
A test that takes ``optimizer_case`` runs once per case and named optimizer setting
(``optimizer_specs.py``), on the lessons of ``OPTIMIZER_LESSONS`` unless ``--lesson``
says otherwise: ids like ``spiral-torch-float64-adam``.
``--framework``, ``--lesson``, ``--dtype`` and ``--optimizer`` choose from the command line.
``--nnparity-lessons PATH`` adds a user's lessons (``conformance/lesson_files.py``): the cases then
run on those lessons unless ``--lesson`` names others.
"""

from __future__ import annotations

import pytest

from conformance.checks.components import all_components
from conformance.lesson_files import added_lessons
from conformance.lessons import LESSONS
from conformance.optimizer_specs import OPTIMIZER_SPECS
from frameworks import FRAMEWORKS, unavailable_reason

from ..cases import DTYPES, all_cases


def _chosen(config, option, known, what, default=None):
    chosen = config.getoption(option) or list(default or known)
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise pytest.UsageError(f"--{option}: unknown {what} {unknown}; expected some of {sorted(known)}")
    return chosen


# Every optimizer setting is checked on these (the optimizers issue's "done when"): one
# full-batch lesson with BCE, one mini-batch lesson with MSE and three layers.
OPTIMIZER_LESSONS = ("spiral", "keras-4-64-32-1")


def _parametrizes(metafunc, name) -> bool:
    """Whether the test parametrizes ``name`` itself (``@pytest.mark.parametrize``)."""
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        if name in ([n.strip() for n in names.split(",")] if isinstance(names, str) else names):
            return True
    return False


def pytest_configure(config):
    from . import support

    # tests that name their frameworks themselves (test_conventions.py, test_defaults.py) honour --framework too
    support.CHOSEN_FRAMEWORKS = config.getoption("framework")


def pytest_generate_tests(metafunc):
    config = metafunc.config
    if "framework" in metafunc.fixturenames and not _parametrizes(metafunc, "framework"):
        # tests that declare their own lessons (test_edges.py, test_properties.py): every framework,
        # skipped with the reason where it cannot run in this process
        chosen = _chosen(config, "framework", FRAMEWORKS, "framework")
        metafunc.parametrize("framework", [
            pytest.param(fw, marks=pytest.mark.skipif(unavailable_reason(fw) is not None,
                                                      reason=str(unavailable_reason(fw))))
            for fw in chosen
        ])
    if "dtypes" in metafunc.fixturenames:
        metafunc.parametrize("dtypes", [tuple(_chosen(config, "dtype", DTYPES, "dtype"))], ids="-".join)
    if "case" in metafunc.fixturenames:
        config = metafunc.config
        cases = all_cases(
            _chosen(config, "lesson", LESSONS, "lesson", added_lessons()),
            _chosen(config, "framework", FRAMEWORKS, "framework"),
            _chosen(config, "dtype", DTYPES, "dtype"),
        )
        metafunc.parametrize("case", cases, ids=[c.id for c in cases])
    if "component" in metafunc.fixturenames:
        components = all_components(_chosen(metafunc.config, "framework", FRAMEWORKS, "framework"))
        metafunc.parametrize("component", components, ids=[c.id for c in components])
    if "optimizer_case" in metafunc.fixturenames:
        config = metafunc.config
        cases = all_cases(
            _chosen(config, "lesson", LESSONS, "lesson", added_lessons() or OPTIMIZER_LESSONS),
            _chosen(config, "framework", FRAMEWORKS, "framework"),
            _chosen(config, "dtype", DTYPES, "dtype"),
            _chosen(config, "optimizer", OPTIMIZER_SPECS, "optimizer"),
        )
        metafunc.parametrize("optimizer_case", cases, ids=[c.id for c in cases])
