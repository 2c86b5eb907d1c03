"""nnparity's pytest plugin: a fixture that compares a torch model with a Keras model in any project.

Registered through the ``pytest11`` entry point (pyproject.toml), so ``pip install nnparity`` gives
every pytest session in that environment::

    def test_port(nnparity_compare):
        nnparity_compare(torch_model, keras_model, X, y, torch_loss=..., keras_loss=...,
                         torch_optimizer=lambda p: torch.optim.SGD(p, lr=0.1),
                         keras_optimizer=keras.optimizers.SGD(0.1))

``nnparity_compare`` is ``nnparity.assert_models_agree`` with ``dtype`` and ``steps`` taken from the
options ``--nnparity-dtype`` (default float64) and ``--nnparity-steps`` (default 100) unless the
call passes them; it returns the ``PairResult``, and a failure's message is the full report. A test
that uses it is skipped, with the reason and the install command, where torch or Keras (with
TensorFlow) is not installed.

A session that does not use the fixture is not changed: importing this module imports pytest and
``nnparity`` (whose public names load on first use) and nothing else, and the plugin adds two
options and a fixture, no hook that runs on every test. The import cost is measured in
docs/porting.md.
"""

from __future__ import annotations

import pytest

import nnparity
from frameworks import missing_reason

DTYPES = ("float64", "float32")
PAIR_FRAMEWORKS = ("torch", "keras")  # Keras on TensorFlow: compare_models takes dL/d every layer with tf.GradientTape


def pytest_addoption(parser):
    group = parser.getgroup("nnparity", "nnparity: compare a torch model with a Keras model (nnparity_compare)")
    group.addoption("--nnparity-dtype", choices=DTYPES, default="float64",
                    help="the dtype nnparity_compare compares in (default: float64)")
    group.addoption("--nnparity-steps", type=int, default=100, metavar="N",
                    help="training steps nnparity_compare compares after the first (default: 100)")


@pytest.fixture
def nnparity_compare(request):
    """``nnparity.assert_models_agree`` with the session's ``--nnparity-dtype`` and ``--nnparity-steps``."""
    for framework in PAIR_FRAMEWORKS:
        reason = missing_reason(framework)
        if reason:
            pytest.skip(f"nnparity_compare: {reason}")
    dtype = request.config.getoption("nnparity_dtype")
    steps = request.config.getoption("nnparity_steps")

    def compare(torch_model, keras_model, X, y, **options):
        options.setdefault("dtype", dtype)
        options.setdefault("steps", steps)
        return nnparity.assert_models_agree(torch_model, keras_model, X, y, **options)

    return compare
