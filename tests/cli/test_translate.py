"""nnparity translate: each construction of issue 22 and every optimizer family, both ways; bad input exits 2."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from conformance.optimizer_runs import largest_gap, reference_steps
from nnparity.cli import main
from nnparity.translate import translate
from nnparity.translations import FAMILIES
from reference import Adam
from reference.training_conventions import ExponentialDecay


def test_torch_adam_has_no_keras_setting_and_names_its_adapter():
    result = translate("torch.optim.Adam(lr=1e-3)")
    assert result.target == "keras.optimizers.Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-08)"
    assert not result.same and result.adapter == "frameworks.keras_adapters.TorchAdam"
    hyper = {"learning_rate": 1e-3, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8, "weight_decay": 0.0}
    runs = [reference_steps(Adam(convention=c, **hyper), 10) for c in ("torch", "keras")]
    assert [gap for _, gap in result.drift] == largest_gap(*runs)  # measured, step by step
    assert result.drift[-1][1] == pytest.approx(6.28e-5, rel=0.01)


def test_keras_batchnorm_translates_momentum_and_epsilon_and_keeps_the_running_variance_gap():
    result = translate("keras.layers.BatchNormalization()")
    assert result.target == "torch.nn.BatchNorm1d(4, eps=0.001, momentum=0.01)"
    assert not result.same and "running variance" in result.notes[0]
    assert result.adapter == "frameworks.torch_adapters.KerasBatchNorm1d"
    assert all(gap > 1e-3 for _, gap in result.drift)


def test_cross_entropy_loss_is_keras_categorical_crossentropy_from_logits():
    result = translate("nn.CrossEntropyLoss()")
    assert result.target == "keras.losses.CategoricalCrossentropy(from_logits=True)" and result.same
    weighted = translate("nn.CrossEntropyLoss(weight=(1.0, 2.0, 0.5))")
    assert not weighted.same and weighted.drift[0][1] == pytest.approx(1.1838 - 1.3811, abs=1e-4)
    assert weighted.adapter.startswith("frameworks.torch_adapters.KerasClassWeightedCrossEntropy")


def test_keras_categorical_crossentropy_warns_of_softmax_twice():
    result = translate("keras.losses.CategoricalCrossentropy()")
    assert result.target.startswith("torch.nn.NLLLoss()") and "softmax twice" in result.notes[0]
    assert result.drift[0][1] == pytest.approx(1.1028 - 1.3024, abs=1e-4)


def test_exponential_decay_is_a_per_step_lambda_lr_apart_by_keras_float32():
    result = translate("keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)")
    assert result.target.startswith("torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5 ** (step / 10))")
    assert not result.same
    assert result.drift[6][1] == abs(ExponentialDecay(0.1, 10, 0.5)(6) - 0.1 * 0.5**0.6) == pytest.approx(5.16e-9,
                                                                                                          rel=0.01)
    assert result.adapter.startswith("frameworks.torch_adapters.KerasExponentialDecay")
    staircase = translate("schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True)")
    assert staircase.target.startswith("torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)")


def test_step_lr_and_layernorm_and_gelu():
    assert "staircase=True" in translate("lr_scheduler.StepLR(opt, 30, gamma=0.1)").target
    layer = translate("nn.LayerNorm(16)")
    assert layer.target == "keras.layers.LayerNormalization(epsilon=1e-05)" and layer.same
    assert translate("keras.layers.LayerNormalization()").target == "torch.nn.LayerNorm(4, eps=0.001)"
    ops = translate("keras.ops.gelu(x)")
    assert ops.target == "torch.nn.GELU(approximate='tanh')"
    assert translate("nn.GELU()").target == "keras.activations.gelu(x)"
    assert ops.drift[0][1] == pytest.approx(9.0e-10, rel=0.2)  # TensorFlow's float32 0.044715


@pytest.mark.parametrize("key", list(FAMILIES))
@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_every_optimizer_family_round_trips(key, framework):
    """Translated there and back, the construction comes back with the same numbers (defaults written out)."""
    family = FAMILIES[key]
    name = f"torch.optim.{family.torch}(model.parameters())" if framework == "torch" else \
        f"keras.optimizers.{family.keras}()"
    there = translate(name)
    back = translate(there.target)
    assert back.target == there.source or key == "nadam", (there, back)
    assert there.same == back.same or key == "nadam"
    assert len(there.drift) == 10


def test_nesterov_without_momentum_is_plain_sgd_in_keras_and_refused_by_torch():
    result = translate("keras.optimizers.SGD(nesterov=True)")
    assert result.same and "nesterov=False" in result.target and "torch refuses" in result.notes[0]


def test_nadam_torch_s_momentum_decay_1_is_keras_s_schedule():
    result = translate("keras.optimizers.Nadam()")
    assert "momentum_decay=1.0" in result.target and not result.same
    assert max(gap for _, gap in result.drift) < 1e-9  # only the float32 details (docs/conventions-optimizers.md)


@pytest.mark.parametrize("text,message", [
    ("Adam()", "ambiguous"),
    ("foo.Bar()", "unknown construction 'foo.Bar'"),
    ("torch.optim.Adam(lr=x)", "lr must be a literal"),
    ("torch.optim.Adam(lr=1e-3, fast=True)", "unknown argument 'fast'"),
    ("torch.optim.Adam(", "cannot parse"),
    ("torch.optim.Adam", "expected a call"),
    ("__import__('os').system('true')", "expected a call of a dotted name"),
    ("torch.optim.SGD(model.parameters(), lr=0.1, dampening=0.5)", "dampening=0.5 has no counterpart"),
    ("keras.optimizers.schedules.ExponentialDecay(0.1)", "the argument decay_steps is required"),
    ("torch.optim.Adam(momentum=0.9)", "unknown argument 'momentum'"),
])
def test_bad_constructions_exit_2_with_the_reason(text, message, capsys):
    assert main(["translate", text]) == 2
    assert message in capsys.readouterr().err


def test_translate_prints_text_and_json(capsys):
    assert main(["translate", "torch.optim.RMSprop(model.parameters(), lr=0.01)"]) == 0
    out = capsys.readouterr().out
    assert "keras.optimizers.RMSprop(" in out and "adapter: frameworks.keras_adapters.TorchRMSprop" in out
    assert main(["translate", "--json", "nn.LayerNorm(8, eps=1e-3)"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["target"] == "keras.layers.LayerNormalization(epsilon=0.001)" and data["same"] is True


def test_mse_bce_selu_softplus():
    mse = translate("nn.MSELoss()")
    assert mse.target == "keras.losses.MeanSquaredError()" and mse.same
    assert mse.drift[0][1] == pytest.approx(0.2554, abs=1e-4)  # on its own sample of 8
    bce = translate("keras.losses.BinaryCrossentropy()")
    assert bce.target == "torch.nn.BCELoss()" and not bce.same
    assert bce.drift[0][1] == pytest.approx((100 - 16.118) / 2, abs=1e-3)  # clamp at -100 against clip at 1e-7
    assert translate("nn.BCEWithLogitsLoss()").same
    selu = translate("nn.SELU()")
    assert selu.target == "keras.activations.selu(x)" and selu.drift[1][1] == pytest.approx(1.7581 - 1.0507, abs=1e-4)
    softplus = translate("keras.activations.softplus(x)")
    assert softplus.target == "torch.nn.Softplus()" and softplus.drift[0][1] == pytest.approx(1.865e-9, rel=0.01)


def test_weight_decay_outside_adamw_says_l2_against_decoupled():
    result = translate("torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=0.01)")
    assert any("keras.regularizers.L2(0.005)" in note for note in result.notes)
    keras_side = translate("keras.optimizers.SGD(learning_rate=0.1, momentum=0.9, weight_decay=0.01)")
    assert any("decoupled" in note for note in keras_side.notes) and not keras_side.same
    assert not any("decoupled" in note for note in translate("keras.optimizers.AdamW()").notes)


def test_torch_batchnorm_names_the_keras_adapter():
    result = translate("nn.BatchNorm1d(16)")
    assert result.target == "keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-05)"
    assert result.adapter == "frameworks.keras_adapters.TorchBatchNormalization"


def test_clip_grad_norm_is_global_clipnorm_but_for_its_1e_6():
    result = translate("torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)")
    assert result.target.startswith("keras.optimizers.SGD(..., global_clipnorm=1.0)") and not result.same
    assert 0 < result.drift[0][1] < 1e-6


def adapter_is_defined(adapter: str) -> bool:
    """The adapter a translation names (``frameworks.X.Name`` and any call or comment after it) is a top-level
    name of that module, read with ``ast`` (importing it would load a framework)."""
    module, name = adapter.split(" ")[0].split("(")[0].rsplit(".", 1)
    tree = ast.parse((Path(__file__).parents[2] / (module.replace(".", "/") + ".py")).read_text())
    return name in {node.name for node in tree.body if isinstance(node, (ast.ClassDef, ast.FunctionDef))}


@pytest.mark.parametrize("text,approximate", [("nn.GELU()", "none"), ("F.gelu(x, approximate='tanh')", "tanh"),
                                               ("keras.activations.gelu(x)", "none"), ("keras.ops.gelu(x)", "tanh")])
def test_gelu_names_the_keras_adapter_with_torch_s_float64_constants(text, approximate):
    result = translate(text)
    assert not result.same and result.adapter.startswith(
        f"frameworks.keras_adapters.TorchGELU(approximate={approximate!r})")
    assert adapter_is_defined(result.adapter)


def test_selu_names_the_adapter_with_the_other_framework_s_derivative_at_0():
    there, back = translate("nn.SELU()"), translate("keras.activations.selu(x)")
    assert there.adapter.startswith("frameworks.keras_adapters.torch_selu ")
    assert back.adapter.startswith("frameworks.torch_adapters.KerasSELU ")
    assert adapter_is_defined(there.adapter) and adapter_is_defined(back.adapter)
    softplus = translate("nn.Softplus()")  # torch.nn.Softplus(threshold=40) computes Keras's numbers: no adapter
    assert softplus.adapter is None and "torch.nn.Softplus(threshold=40) computes Keras's numbers" in softplus.notes[0]


def test_torch_nadam_with_its_momentum_decay_names_the_keras_adapter():
    result = translate("torch.optim.NAdam(model.parameters(), momentum_decay=4e-3)")
    assert "keras.optimizers.Nadam(" in result.target and not result.same
    assert result.adapter == "frameworks.keras_adapters.TorchNAdam" and adapter_is_defined(result.adapter)
    assert any("not 0.004" in note for note in result.notes)



def test_keras_nadam_names_the_torch_adapter_for_its_float32_schedule():
    """torch's NAdam(momentum_decay=1.0) is Keras's schedule but for Keras's float32 0.96 (and torch's float32
    product): 3e-9 apart, beyond the float64 tolerance; frameworks.torch_adapters.KerasNadam closes it."""
    result = translate("keras.optimizers.Nadam()")
    assert "torch.optim.NAdam(" in result.target and "momentum_decay=1.0" in result.target and not result.same
    assert result.adapter == "frameworks.torch_adapters.KerasNadam" and adapter_is_defined(result.adapter)
