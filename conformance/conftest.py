"""Parametrizes every conformance test over (lesson, framework, dtype) cases.

A test that takes ``case`` runs once per case, with ids like ``spiral-torch-float64``.
``--framework``, ``--lesson`` and ``--dtype`` choose from the command line.
"""

from __future__ import annotations

import pytest

from conformance.checks import DTYPES, all_cases
from conformance.components import all_components
from conformance.lessons import LESSONS
from frameworks import FRAMEWORKS


def _chosen(config, option, known, what):
    chosen = config.getoption(option) or list(known)
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise pytest.UsageError(f"--{option}: unknown {what} {unknown}; expected some of {sorted(known)}")
    return chosen


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        config = metafunc.config
        cases = all_cases(
            _chosen(config, "lesson", LESSONS, "lesson"),
            _chosen(config, "framework", FRAMEWORKS, "framework"),
            _chosen(config, "dtype", DTYPES, "dtype"),
        )
        metafunc.parametrize("case", cases, ids=[c.id for c in cases])
    if "component" in metafunc.fixturenames:
        components = all_components(_chosen(metafunc.config, "framework", FRAMEWORKS, "framework"))
        metafunc.parametrize("component", components, ids=[c.id for c in components])
