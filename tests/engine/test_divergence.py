"""First-divergence localization finds the right quantity for an injected bug.

Each test breaks one part of one side (a fresh framework twin, or the reference's
model or optimizer) and asserts that the walk names the first quantity the bug
touches, that everything before it agreed, and that the error shows after it.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from conformance.cases import Case, CaseInputs, reference_model
from conformance.divergence import first_divergence, quantities, reference_walk
from conformance.lessons import get_lesson
from frameworks import twin_class, unavailable_reason
from reference import MLP, SGD
from reference.activations import LeakyReLU, ReLU
from reference.losses import BinaryCrossEntropy, BinaryCrossEntropyWithLogits

LESSON = "spiral"  # 2-16-1, relu then sigmoid, BCE, SGD: every stage is present


def fresh_twin(framework: str, dtype: str = "float64", lesson: str = LESSON):
    """A new twin (never the cached one: the test breaks it)."""
    reason = unavailable_reason(framework)
    if reason:
        pytest.skip(reason)
    return twin_class(framework)(get_lesson(lesson), dtype)


def assert_first(divergence, name: str):
    assert divergence is not None, f"expected a divergence at {name}, the walk found none"
    assert divergence.quantity.name == name, divergence.message()
    names = [q.name for q in quantities(get_lesson(divergence.case.lesson))]
    assert divergence.agreed == names[: names.index(name)]
    assert [q.name for q, _ in divergence.after] == names[names.index(name) + 1:]
    assert divergence.item.n_mismatched > 0
    assert divergence.item.max_abs_err > divergence.atol
    return divergence


# ---- the walk itself ---------------------------------------------------------------


def test_quantities_are_in_the_order_of_the_reference_walk():
    lesson = get_lesson("tanh-4-5-4-1")
    names = [q.name for q in quantities(lesson)]
    assert names == list(reference_walk(CaseInputs.build(lesson, "float64")))
    assert names[:7] == ["z1", "a1", "z2", "a2", "z3", "a3", "loss"]
    assert names[7:10] == ["dL/dz3", "dL/dz2", "dL/dz1"]
    assert names[10:17] == ["dL/dW1", "dL/db1", "dL/dW2", "dL/db2", "dL/dW3", "dL/db3", "dL/dX"]
    assert names[17:] == [f"{p} after step" for p in ("W1", "b1", "W2", "b2", "W3", "b3")]


def test_no_bias_lesson_has_no_bias_quantities():
    names = [q.name for q in quantities(get_lesson("xor-mse"))]
    assert not any("b1" in n or "b2" in n for n in names)
    assert names == list(reference_walk(CaseInputs.build(get_lesson("xor-mse"), "float64")))


def test_a_correct_twin_has_no_divergence():
    assert first_divergence(Case(LESSON, "torch", "float64"), twin=fresh_twin("torch")) is None


# ---- a broken PyTorch twin -------------------------------------------------------


def test_torch_forward_bug_is_found_at_the_activation():
    twin = fresh_twin("torch")
    import torch.nn.functional as F

    twin.model.activations[0] = lambda z: F.leaky_relu(z, 0.01)  # relu written as leaky relu
    d = assert_first(first_divergence(Case(LESSON, "torch", "float64"), twin=twin), "a1")
    assert d.quantity.stage == "forward"
    after = dict((q.name, item) for q, item in d.after)
    assert not after["z2"].passed and not after["loss"].passed  # the error flows on


def test_torch_forward_bug_is_found_in_float32():
    twin = fresh_twin("torch", "float32")
    import torch.nn.functional as F

    twin.model.activations[0] = lambda z: F.leaky_relu(z, 0.01)
    assert_first(first_divergence(Case(LESSON, "torch", "float32"), twin=twin), "a1")


def test_torch_loss_bug_is_found_at_the_loss():
    twin = fresh_twin("torch")
    import torch.nn.functional as F

    twin.loss_fn = lambda z, a, y: F.binary_cross_entropy(a, y, reduction="sum")  # sum, not mean
    d = assert_first(first_divergence(Case(LESSON, "torch", "float64"), twin=twin), "loss")
    assert d.quantity.stage == "loss"


def test_torch_backward_bug_is_found_at_the_hidden_layers_dz():
    twin = fresh_twin("torch")
    import torch

    class ReLUForgetsItsDerivative(torch.autograd.Function):
        """relu forward, but backward passes the gradient through where z < 0 too."""

        @staticmethod
        def forward(ctx, z):
            return z.clamp(min=0)

        @staticmethod
        def backward(ctx, grad):
            return grad

    twin.model.activations[0] = ReLUForgetsItsDerivative.apply
    d = assert_first(first_divergence(Case(LESSON, "torch", "float64"), twin=twin), "dL/dz1")
    assert d.quantity.stage == "backward"
    assert "dL/dz2" in d.agreed and "loss" in d.agreed


def test_torch_optimizer_bug_is_found_after_the_step():
    twin = fresh_twin("torch")
    import torch

    # weight decay left on: torch's SGD adds weight_decay * w to every gradient
    twin.make_optimizer = lambda name, hyper: torch.optim.SGD(
        twin.model.parameters(), lr=hyper["learning_rate"], weight_decay=0.01
    )
    d = assert_first(first_divergence(Case(LESSON, "torch", "float64"), twin=twin), "W1 after step")
    assert d.quantity.stage == "step"
    assert "dL/dX" in d.agreed


# ---- a broken Keras twin ---------------------------------------------------------


def test_keras_forward_bug_is_found_at_the_activation():
    twin = fresh_twin("keras")
    import keras

    twin.model.layers[1].activation = lambda z: keras.activations.leaky_relu(z, negative_slope=0.01)
    assert_first(first_divergence(Case(LESSON, "keras", "float64"), twin=twin), "a1")


def test_keras_loss_bug_is_found_at_the_loss():
    twin = fresh_twin("keras")
    import keras

    twin.loss_fn = keras.losses.BinaryCrossentropy(label_smoothing=0.1, dtype="float64")
    assert_first(first_divergence(Case(LESSON, "keras", "float64"), twin=twin), "loss")


def test_keras_optimizer_bug_is_found_after_the_step():
    twin = fresh_twin("keras")
    import keras

    from frameworks.keras_twin import keras_dtype

    def sgd_with_decay(name, hyper):  # Keras's weight_decay is decoupled: w -= lr * wd * w first
        with keras_dtype(twin.dtype):
            return keras.optimizers.SGD(learning_rate=np.float64(hyper["learning_rate"]),
                                        weight_decay=np.float64(0.01))

    twin.make_optimizer = sgd_with_decay
    assert_first(first_divergence(Case(LESSON, "keras", "float64"), twin=twin), "W1 after step")


# ---- a broken reference ----------------------------------------------------------


def _any_twin():
    for fw in ("torch", "keras"):
        if unavailable_reason(fw) is None:
            return fw
    pytest.skip("no framework installed to compare the reference with")


def test_reference_forward_bug_is_found_at_the_activation():
    def model(lesson, params):
        return MLP(params, [LeakyReLU(0.01), "sigmoid"], lesson.loss)

    fw = _any_twin()
    assert_first(first_divergence(Case(LESSON, fw, "float64"), make_model=model), "a1")


def test_reference_loss_bug_is_found_at_the_loss():
    class BCEWithoutSoftplus(BinaryCrossEntropyWithLogits):
        def forward(self, z, y):  # forgot the log(1 + exp(-|z|)) term; the gradient is still right
            return float(np.mean(np.maximum(z, 0) - z * y))

    class BrokenBCE(BinaryCrossEntropy):
        def from_logits(self):
            return BCEWithoutSoftplus()

    def model(lesson, params):
        return MLP(params, lesson.activations, BrokenBCE())

    fw = _any_twin()
    d = assert_first(first_divergence(Case(LESSON, fw, "float64"), make_model=model), "loss")
    assert all(item.passed for _, item in d.after)  # only the value was wrong


def test_reference_backward_bug_is_found_at_the_hidden_layers_dz():
    class ReLUWithDerivativeOne(ReLU):
        def derivative(self, z, a):
            return np.ones_like(z)

    def model(lesson, params):
        return MLP(params, [ReLUWithDerivativeOne(), "sigmoid"], lesson.loss)

    fw = _any_twin()
    assert_first(first_divergence(Case(LESSON, fw, "float64"), make_model=model), "dL/dz1")


def test_reference_optimizer_bug_is_found_at_the_first_wrong_parameter():
    class SGDForgetsBiases(SGD):
        def update(self, params, grads):
            for name, p in params.items():
                if name.startswith("W"):
                    p -= self.learning_rate * grads[name]

    fw = _any_twin()
    d = first_divergence(
        Case(LESSON, fw, "float64"),
        make_model=reference_model,
        make_optimizer=lambda lesson: SGDForgetsBiases(**lesson.hyperparameters),
    )
    assert_first(d, "b1 after step")
    assert "W1 after step" in d.agreed


# ---- the report --------------------------------------------------------------------


def test_message_reads_like_torch_testing_and_shows_the_growth():
    twin = fresh_twin("torch")
    import torch.nn.functional as F

    twin.model.activations[0] = lambda z: F.leaky_relu(z, 0.01)
    text = first_divergence(Case(LESSON, "torch", "float64"), twin=twin).message()
    assert text.startswith("First divergence in spiral-torch-float64: a1 (forward: layer 1 activation, a1 = relu(z1))")
    assert "Everything before it agrees: z1" in text
    assert "Mismatched elements:" in text and "Greatest absolute difference:" in text
    assert "(up to 1e-12 allowed)" in text and "Greatest relative difference:" in text
    assert "After it" in text and "z2" in text and "differs" in text


def test_json_is_serialisable_and_complete():
    twin = fresh_twin("torch")
    import torch.nn.functional as F

    twin.model.activations[0] = lambda z: F.leaky_relu(z, 0.01)
    data = json.loads(json.dumps(first_divergence(Case(LESSON, "torch", "float64"), twin=twin).to_json()))
    assert data["quantity"] == "a1" and data["stage"] == "forward"
    assert data["shape"] == [300, 16] and data["total"] == 4800
    assert 0 < data["mismatched"] <= 4800
    assert data["max_abs_err"] > data["atol"] and len(data["max_abs_index"]) == 2
    assert data["agreed_before"] == ["z1"]
    assert data["after"][0]["quantity"] == "z2" and data["after"][0]["passed"] is False


def test_nnparity_run_prints_and_writes_the_first_divergence(monkeypatch, tmp_path, capsys):
    """``nnparity run`` on a case whose twin is broken: the report and the JSON name the quantity."""
    twin = fresh_twin("torch")
    import torch.nn.functional as F

    import conformance.cases
    import conformance.divergence
    from nnparity.cli import main

    twin.model.activations[0] = lambda z: F.leaky_relu(z, 0.01)
    monkeypatch.setattr(conformance.cases, "get_twin", lambda *a: twin)
    monkeypatch.setattr(conformance.divergence, "get_twin", lambda *a: twin)
    out = tmp_path / "run.json"
    checks = ["forward", "loss", "gradients", "step"]  # the checks that use the patched twin
    code = main(["run", "--lesson", LESSON, "--framework", "torch", "--dtype", "float64", "--json", str(out)]
                + [arg for check in checks for arg in ("--check", check)])
    assert code == 1
    printed = capsys.readouterr().out
    assert "First divergence in spiral-torch-float64: a1" in printed
    results = json.loads(out.read_text())["results"]
    assert {r["check"] for r in results} == set(checks)
    for r in results:
        assert {"lesson", "framework", "dtype", "check", "passed", "max_abs_err", "max_rel_err",
                "atol", "rtol", "worst", "first_divergence"} <= set(r)
        assert r["passed"] is False  # relu -> leaky relu changes every check
        assert r["first_divergence"]["quantity"] == "a1"


def test_nnparity_run_json_is_null_for_the_checks_that_passed(monkeypatch, tmp_path):
    """A loss bug: the forward check passes (null), the others name the loss."""
    twin = fresh_twin("torch")
    import torch.nn.functional as F

    import conformance.cases
    import conformance.divergence
    from nnparity.cli import main

    twin.loss_fn = lambda z, a, y: F.binary_cross_entropy(a, y, reduction="sum")
    monkeypatch.setattr(conformance.cases, "get_twin", lambda *a: twin)
    monkeypatch.setattr(conformance.divergence, "get_twin", lambda *a: twin)
    out = tmp_path / "run.json"
    assert main(["run", "--lesson", LESSON, "--framework", "torch", "--dtype", "float64", "--json", str(out)]) == 1
    by_check = {r["check"]: r for r in json.loads(out.read_text())["results"]}
    assert by_check["forward"]["passed"] and by_check["forward"]["first_divergence"] is None
    for check in ("loss", "gradients", "step"):
        assert not by_check[check]["passed"]
        assert by_check[check]["first_divergence"]["quantity"] == "loss"


def test_nnparity_run_writes_null_when_a_case_passes(tmp_path):
    from nnparity.cli import main

    _any_twin()
    out = tmp_path / "run.json"
    assert main(["run", "--lesson", "neuron", "--dtype", "float64", "--json", str(out)]) == 0
    results = json.loads(out.read_text())["results"]
    assert results and all(r["first_divergence"] is None for r in results)
