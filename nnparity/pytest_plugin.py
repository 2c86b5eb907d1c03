"""nnparity's pytest plugin: a fixture that compares a torch model with a Keras model in any project.

Registered through the ``pytest11`` entry point (pyproject.toml), so ``pip install nnparity`` gives
every pytest session in that environment::

    def test_port(nnparity_compare):
        nnparity_compare(torch_model, keras_model, X, y, torch_loss=..., keras_loss=...,
                         torch_optimizer=lambda p: torch.optim.SGD(p, lr=0.1),
                         keras_optimizer=keras.optimizers.SGD(0.1))

``nnparity_compare`` is ``nnparity.assert_models_agree`` with ``dtype`` and ``steps`` taken from the
session unless the call passes them: a test that uses it runs once per ``--nnparity-dtype`` (repeatable;
default float64), with the dtype in its id (``test_port[float64]``, ``test_port[float32]``), and
compares ``--nnparity-steps`` steps (default 100). It returns the ``PairResult``; a failure's message
is the full report. A test that uses it is skipped, with the reason and the install command, where
torch or Keras (with TensorFlow) is not installed.

A session that does not use the fixture is not changed: importing this module imports pytest,
``nnparity`` (whose public names load on first use) and ``frameworks``' registry of names, and the
plugin adds two options, a fixture, and one collection hook that acts only on tests that ask for the
fixture. The import cost is measured in docs/porting.md.
"""

from __future__ import annotations

import pytest

import nnparity
from frameworks import missing_reason

DTYPES = ("float64", "float32")
PAIR_FRAMEWORKS = ("torch", "keras")  # Keras on TensorFlow: compare_models takes dL/d every layer with tf.GradientTape


def pytest_addoption(parser):
    group = parser.getgroup("nnparity", "nnparity: compare a torch model with a Keras model (nnparity_compare)")
    group.addoption("--nnparity-dtype", choices=DTYPES, action="append", default=None,
                    help="a dtype nnparity_compare compares in (repeatable: each test that uses it runs once per "
                    "dtype, the dtype in its id; default: float64)")
    group.addoption("--nnparity-steps", type=int, default=100, metavar="N",
                    help="training steps nnparity_compare compares after the first (default: 100)")


def pytest_generate_tests(metafunc):
    """A test that uses ``nnparity_compare`` runs once per ``--nnparity-dtype``, the dtype as its id."""
    if "nnparity_compare" in metafunc.fixturenames:
        dtypes = list(dict.fromkeys(metafunc.config.getoption("nnparity_dtype") or ["float64"]))
        metafunc.parametrize("nnparity_dtype", dtypes, ids=dtypes)


@pytest.fixture
def nnparity_dtype():
    """The dtype of this run of a test (``pytest_generate_tests`` parametrizes it)."""
    return "float64"


@pytest.fixture
def nnparity_compare(request, nnparity_dtype):
    """``nnparity.assert_models_agree`` with this run's dtype and the session's ``--nnparity-steps``."""
    for framework in PAIR_FRAMEWORKS:
        reason = missing_reason(framework)
        if reason:
            pytest.skip(f"nnparity_compare: {reason}")
    steps = request.config.getoption("nnparity_steps")

    def compare(torch_model, keras_model, X, y, **options):
        options.setdefault("dtype", nnparity_dtype)
        options.setdefault("steps", steps)
        return nnparity.assert_models_agree(torch_model, keras_model, X, y, **options)

    return compare
