"""Each reference activation and loss alone agrees with torch's and Keras's, edges included (components.py)."""

import pytest

from conformance.components import Component, run_component
from frameworks import unavailable_reason


def test_component(component: Component):
    reason = unavailable_reason(component.framework)
    if reason:
        pytest.skip(reason)
    result = run_component(component)
    if not result.passed:
        pytest.fail(f"{result.message()}\nRe-run: pytest conformance/test_components.py -k {component.id}",
                    pytrace=False)
