"""Loading weights into a network that already has some: the reference's ``set_params`` against the twins'.

Every check builds its reference network from the canonical weights. A learner more
often builds a network first and loads weights into it afterwards (``set_params`` here,
``load_state_dict`` in PyTorch, ``set_weights`` in Keras: the twins' ``set_params``).
These tests build the reference with other weights (every value 0.5), load the
canonical ones, and then ask what every check asks: the same forward pass as the
framework loaded with the same weights, at the case's tolerance, and the loaded values
read back exactly. A loader that skipped a parameter, or wrote it somewhere else,
leaves a 0.5 behind, far outside any tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.lessons import LESSONS
from conformance.tests.support import needs

from ..cases import DTYPES, case_inputs, reference_model, share_dropout_masks
from ..checks import actual, get_check
from ..compare import assert_agree

# a plain MLP with a sigmoid output, a softmax one, and a RegularizedMLP (BatchNorm's four arrays per layer;
# LayerNorm's two)
LOADED_LESSONS = ("spiral", "sensor", "spiral-batchnorm", "spiral-layernorm")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("framework", ["torch", "keras"])
@pytest.mark.parametrize("lesson", LOADED_LESSONS)
def test_weights_loaded_into_a_built_network_agree(lesson, framework, dtype):
    needs(framework)
    spec = LESSONS[lesson]
    params, X, _ = case_inputs(spec, dtype)
    model = reference_model(spec, {name: np.full_like(value, 0.5) for name, value in params.items()},
                            framework, framework=framework)
    model.set_params(params)
    # exactly the loaded values, in the model's own arrays (atol=0: a copy has no rounding)
    assert_agree({name: model.params[name] for name in params}, params, atol=0, rtol=0,
                 what=f"{lesson}: the parameters after set_params")
    share_dropout_masks(model, spec, len(X))
    model.forward(X)
    result = get_check("forward").compare(actual("forward", spec, framework, dtype), model.trace(), spec, dtype,
                                          what=f"{lesson}: forward after set_params, {framework} {dtype}")
    assert result.passed, result.message()
