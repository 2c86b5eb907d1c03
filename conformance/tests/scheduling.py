"""pytest-xdist scheduling: every test of one framework runs on the same worker.

Importing a framework costs seconds (torch about 1.4 s, plus 1.5 s more for
``torch._dynamo`` on the first ``torch.optim`` step; TensorFlow and Keras about
3.5 s), while a conformance case costs milliseconds. xdist's default ``--dist
load`` hands tests out one by one, so every worker ends up importing every
framework and ``-n 2`` was measured no faster than ``-n 0``.
Grouping by framework makes each worker import one framework only.

``--dist loadgroup`` would do the grouping from marks, but it works by
appending ``@group`` to the node ids (``test_step[spiral-torch-float64]@torch``)
and did not group at all with pytest 9.2 (pytest-xdist issue #1386). This
scheduler reads the framework from the node id instead and leaves the ids
alone. The root ``conftest.py`` installs it whenever xdist would use ``load``;
any other ``--dist`` mode given on the command line is left to xdist.
"""

from __future__ import annotations

from frameworks import FRAMEWORKS, available_frameworks

from ..cases import DTYPES


def framework_of(nodeid: str) -> str | None:
    """The framework a test's node id names, or None.

    - A parametrized id holding a case, ``...[<lesson>-<framework>-<dtype>...]``:
      the framework is the part just before a dtype. A lesson's own name may
      contain a framework's (``keras-4-64-32-1-torch-float64`` is a torch case),
      and a framework's name may contain a hyphen (``keras-jax``), so whole
      hyphen-separated parts are matched.
    - Otherwise a word of the test function's name: ``test_keras_stores_...``.
    """
    name = nodeid.rsplit("::", 1)[-1]
    function, _, params = name.partition("[")
    parts = f"-{params.rstrip(']')}-"
    for framework in sorted(FRAMEWORKS, key=len, reverse=True):  # keras-torch before torch
        if any(f"-{framework}-{dtype}-" in parts for dtype in DTYPES):
            return framework
    return next((word for word in function.split("_") if word in FRAMEWORKS), None)


def scope_of(nodeid: str) -> str:
    """The group a test runs in: its framework, else the first framework installed.

    Tests that name no framework either need none or compare against the first
    one installed (``available_frameworks()[0]``, as ``tests/teeth/test_teeth.py`` and
    ``tests/cli/test_cli.py`` do), so they join that framework's worker.
    """
    return framework_of(nodeid) or next(iter(available_frameworks()), "reference")


def make_scheduler(config, log):
    """A LoadScopeScheduling whose scopes are frameworks (xdist's loadfile works the same way)."""
    from xdist.scheduler import LoadScopeScheduling

    class FrameworkScheduling(LoadScopeScheduling):
        """One work unit per framework, the biggest first; a worker with no unit is shut down."""

        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    return FrameworkScheduling(config, log)
