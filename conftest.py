"""pytest configuration shared by conformance/ and tests/."""

from __future__ import annotations

import pytest

from conformance.threads import limit_reference_blas


def pytest_addoption(parser):
    group = parser.getgroup("nnparity")
    group.addoption(
        "--framework",
        action="append",
        default=None,
        help="run the conformance cases of this framework only (repeatable; default: every known "
        "framework, those not installed are skipped with the reason)",
    )
    group.addoption(
        "--lesson", action="append", default=None, help="run the conformance cases of this lesson only (repeatable)"
    )
    group.addoption(
        "--dtype", action="append", default=None, help="float64 or float32 (repeatable; default both)"
    )
    group.addoption(
        "--optimizer", action="append", default=None,
        help="run the optimizer cases with this named setting only (repeatable; `nnparity optimizers` lists them)",
    )


# Hypothesis budgets (conformance/tests/test_properties.py). ``ci`` is the default: a fixed,
# derandomized set of examples, so CI time and results repeat. ``thorough`` is chosen
# with ``--hypothesis-profile=thorough`` (2,000 examples per framework).
PROPERTY_PROFILES = {
    "ci": dict(max_examples=25, derandomize=True),
    "thorough": dict(max_examples=2000, print_blob=True),
    # half the thorough budget: two runs with different --hypothesis-seed share the cores of a
    # 2-CPU machine and together draw 2,000 examples (docs/backends.md)
    "thorough-half": dict(max_examples=1000, print_blob=True),
}


def _register_property_profiles():
    from hypothesis import HealthCheck, settings

    for name, options in PROPERTY_PROFILES.items():
        # deadline off: building a Keras model takes ~0.4 s, which is not what is measured here
        settings.register_profile(name, deadline=None, database=None,
                                  suppress_health_check=[HealthCheck.too_slow], **options)


def pytest_configure(config):
    # NumPy's BLAS on one thread in every pytest process (each xdist worker too), as in every
    # process of nnparity's: conformance/threads.py has the measurement.
    limit_reference_blas()
    _register_property_profiles()
    from hypothesis import settings

    if not config.getoption("hypothesis_profile", None):
        settings.load_profile("ci")


def pytest_report_header(config):
    from frameworks import available_frameworks, versions

    v = versions()
    return [
        "nnparity: " + ", ".join(f"{k} {val}" for k, val in v.items()),
        "nnparity frameworks installed: " + (", ".join(available_frameworks()) or "none"),
    ]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under xdist's default ``--dist load``: one worker per framework (conformance/tests/scheduling.py)."""
    if config.getoption("dist") != "load":
        return None  # the user chose another mode: xdist's own scheduler
    from conformance.tests.scheduling import make_scheduler

    return make_scheduler(config, log)


# --nnparity-lessons PATH: a user's lesson files in the catalog for the session
pytest_plugins = ("conformance.tests.lesson_option",)
