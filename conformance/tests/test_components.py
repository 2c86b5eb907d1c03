"""Each reference activation and loss alone agrees with torch's and Keras's, edges included (components.py)."""

import pytest

from conformance.checks.components import COMPONENT_MODULES, Component, run_component
from frameworks import unavailable_reason


def test_component(component: Component):
    reason = unavailable_reason(component.framework)
    if reason is None and component.framework not in COMPONENT_MODULES:
        reason = (f"the component checks have no {component.framework} module: they run on torch and on Keras's "
                  "TensorFlow backend (frameworks/keras_components.py takes gradients with tf.GradientTape)")
    if reason:
        pytest.skip(reason)
    result = run_component(component)
    if not result.passed:
        pytest.fail(f"{result.message()}\nRe-run: pytest conformance/tests/test_components.py -k {component.id}",
                    pytrace=False)
