"""Every optimizer of ``reference.OPTIMIZERS`` in the engine: a named setting, both twins build it with each
hyper-parameter under the framework's own name, and a wrong mapping fails the step check.

The nine are SGD, Adam, AdamW, RMSprop and Adagrad (``reference/optimizers.py``) and NAdam, Adamax,
AMSGrad and Adadelta (``reference/adaptive_optimizers.py``), in one table
(``reference/optimizer_registry.py``). Their formulas are proven against torch and Keras by the
step and trajectory checks (``conformance/tests/test_optimizers.py``, every named setting) and by the
convention tests; here, the plumbing between the two: names. Keras's rho is torch's ``alpha`` in
RMSprop and ``rho`` in Adadelta, and Keras's Nadam has no ``momentum_decay`` at all.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.cases import Case
from conformance.checks import run_check
from conformance.lessons import get_lesson
from conformance.optimizer_runs import KERAS_CLASSES, TORCH_CLASSES
from conformance.optimizer_specs import OPTIMIZER_SPECS, refused_by
from conformance.tests.support import needs
from frameworks import get_twin
from frameworks.keras_arguments import keras_hyperparameters
from reference import OPTIMIZERS, get_optimizer

ADAPTIVE = ("nadam", "adamax", "amsgrad", "adadelta")  # reference/adaptive_optimizers.py's four
NADAM = OPTIMIZER_SPECS["nadam"].hyperparameters


def test_every_reference_optimizer_has_a_named_setting():
    """``nnparity run --optimizer NAME`` reaches each of the nine: a setting of ``nnparity optimizers`` names it."""
    assert {spec.optimizer for spec in OPTIMIZER_SPECS.values()} == set(OPTIMIZERS)
    assert set(ADAPTIVE) <= set(OPTIMIZERS)


def test_an_unknown_optimizer_is_refused_naming_all_nine():
    with pytest.raises(ValueError, match="unknown optimizer 'nadamw'") as refused:
        get_optimizer("nadamw")
    assert all(repr(name) in str(refused.value) for name in OPTIMIZERS)


def test_keras_nadam_takes_no_momentum_decay_but_the_one_it_computes():
    """Keras's Nadam computes torch's momentum_decay=1 and has no argument for it: 1.0 is left out, any other
    value refused, naming the adapter (the reference's Keras convention refuses it too)."""
    assert "momentum_decay" not in keras_hyperparameters("nadam", NADAM, "float64")
    with pytest.raises(ValueError, match=r"Nadam has no momentum_decay.*TorchNAdam.*momentum_decay=0.004"):
        keras_hyperparameters("nadam", {**NADAM, "momentum_decay": 0.004}, "float64")
    with pytest.raises(ValueError, match="keras.optimizers.Nadam has no momentum_decay"):
        get_optimizer("nadam", convention="keras", **{**NADAM, "momentum_decay": 0.004})


def test_keras_numbers_are_float64_but_adadelta_s_rho():
    """np.float64 keeps a float64 run's numbers exact on TensorFlow; Adadelta's ``rho * accumulated_grad`` needs a
    Python float (keras_arguments.PYTHON_FLOATS), which the variable takes at its own dtype."""
    hyper = keras_hyperparameters("adadelta", OPTIMIZER_SPECS["adadelta"].hyperparameters, "float64")
    assert type(hyper["rho"]) is float and hyper["rho"] == 0.95
    assert all(type(v) is np.float64 for k, v in hyper.items() if k != "rho")
    amsgrad = keras_hyperparameters("amsgrad", OPTIMIZER_SPECS["amsgrad"].hyperparameters, "float32")
    assert all(type(v) is float for v in amsgrad.values())


def test_a_setting_the_framework_refuses_is_skipped_with_the_reason():
    """nadam-torch (torch's momentum_decay 4e-3) runs against torch; Keras's step and trajectory are skipped, saying
    why (the reference's Keras convention refuses it, as Keras has no such argument), never counted as passed."""
    assert refused_by("nadam-torch", "torch") is None and refused_by("nadam", "keras") is None
    for check in ("step", "trajectory"):
        result = run_check(check, Case("spiral", "keras", "float64", optimizer="nadam-torch"))
        assert not result.passed and result.skipped
        assert "keras.optimizers.Nadam has no momentum_decay" in result.skipped and "0.004" in result.skipped


def _expected(setting: str) -> dict:
    """The setting's hyper-parameters, without clipping (not an optimizer argument in torch)."""
    return dict(OPTIMIZER_SPECS[setting].hyperparameters)


@pytest.mark.parametrize("setting", list(OPTIMIZER_SPECS))
def test_the_torch_twin_builds_each_setting_with_torch_s_names(setting):
    needs("torch")
    from frameworks.torch_twin import hyper_names

    spec = OPTIMIZER_SPECS[setting]
    twin = get_twin("torch", get_lesson("spiral"), "float64")
    opt = twin.make_optimizer(spec.optimizer, spec.hyperparameters)
    group, names = opt.param_groups[0], hyper_names(spec.optimizer)
    built = {k: (group["betas"][int(k[-1]) - 1] if k.startswith("beta_") else group[names[k]]) for k in _expected(setting)}
    assert built == _expected(setting), f"torch twin's {spec.optimizer}"
    if spec.optimizer in TORCH_CLASSES:  # the class the convention tests step directly
        cls, fixed = TORCH_CLASSES[spec.optimizer]
        assert type(opt).__name__ == cls and all(group[k] == v for k, v in fixed.items())


@pytest.mark.parametrize("setting", list(OPTIMIZER_SPECS))
def test_the_keras_twin_builds_each_setting_with_keras_s_names(setting):
    needs("keras")
    spec = OPTIMIZER_SPECS[setting]
    twin = get_twin("keras", get_lesson("spiral"), "float64")
    if refused_by(setting, "keras"):  # nadam-torch: Keras's Nadam has no momentum_decay
        with pytest.raises(ValueError, match="has no momentum_decay.*TorchNAdam"):
            twin.make_optimizer(spec.optimizer, spec.hyperparameters)
        return
    opt = twin.make_optimizer(spec.optimizer, spec.hyperparameters)
    config = opt.get_config()
    expected = keras_hyperparameters(spec.optimizer, _expected(setting), "float64")
    config["weight_decay"] = config["weight_decay"] or 0.0  # Keras's "no weight decay" is None
    # approx: Keras keeps the learning rate in a variable, read back through float64 here
    assert {k: config[k] for k in expected} == pytest.approx(expected, rel=1e-15), f"keras twin's {spec.optimizer}"
    if spec.optimizer in KERAS_CLASSES:
        cls, fixed = KERAS_CLASSES[spec.optimizer]
        assert type(opt).__name__ == cls and all(config[k] == v for k, v in fixed.items())


def test_adadelta_s_rho_mapped_wrongly_fails_the_step_check(monkeypatch):
    """Teeth: a torch twin that left Adadelta's rho to torch's default (0.9, the setting's is 0.95) fails the step
    check; RMSprop's torch name for it, alpha, is refused by torch."""
    needs("torch")
    import torch

    from frameworks import torch_twin

    case = Case("spiral", "torch", "float64", optimizer="adadelta")
    assert run_check("step", case).passed
    monkeypatch.setitem(torch_twin.OPTIMIZERS, "adadelta", lambda params, rho, **hyper: torch.optim.Adadelta(params, **hyper))
    assert not run_check("step", case).passed
    monkeypatch.setitem(torch_twin.OPTIMIZER_HYPER_NAMES, "adadelta", {"rho": "alpha"})
    monkeypatch.setitem(torch_twin.OPTIMIZERS, "adadelta", torch.optim.Adadelta)
    with pytest.raises(TypeError, match="alpha"):
        run_check("step", case)
