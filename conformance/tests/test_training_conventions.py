"""Schedules, gradient accumulation, clipping and fit's batches: where torch's loop and Keras's built-ins differ.

docs/conventions-training.md links each row here. Each test runs torch's usual code and
Keras's built-in on the same numbers in float64; each agrees with the reference under its
own convention (the float64 tolerance) and not with the other's, by the measured amount.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.tests.support import needs
from reference import MLP, SGD, MiniBatches, clip_gradients
from reference.losses import BinaryCrossEntropy, keras_clip_range
from reference.training_conventions import (
    DEFAULT_BATCHES,
    ExponentialDecay,
    StepLR,
    accumulate_gradients,
    default_batches,
    learning_rates,
)

from ..compare import assert_agree, compare
from ..tolerances import tolerance

DTYPE = "float64"
TOL = tolerance(DTYPE)
N, STEPS_PER_EPOCH, EPOCHS = 100, 4, 4  # 100 samples in batches of 32: 4 steps an epoch


# ----- learning-rate schedules ------------------------------------------------------------------------------

def torch_rates_per_epoch(make_scheduler) -> list[float]:
    """torch's usual loop with ``make_scheduler(optimizer)`` stepped after each epoch: the rate of every step."""
    import torch

    p = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([p], lr=0.1)
    scheduler = make_scheduler(optimizer)
    rates = []
    for _ in range(EPOCHS):
        for _ in range(STEPS_PER_EPOCH):
            rates.append(optimizer.param_groups[0]["lr"])
            p.grad = torch.ones(1)
            optimizer.step()
        scheduler.step()
    return rates


def torch_step_lr() -> list[float]:
    """torch's usual loop: StepLR(step_size=10, gamma=0.5) stepped after each epoch; the rate of every step."""
    import torch

    return torch_rates_per_epoch(lambda optimizer: torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5))


def keras_exponential_decay() -> list[float]:
    """Keras: SGD(ExponentialDecay(0.1, 10, 0.5)) on a float64 variable at 0 with gradient 1: each step moves it by
    exactly the rate it used."""
    import keras

    from frameworks.keras_twin import keras_dtype

    with keras_dtype(DTYPE):
        v = keras.Variable(np.zeros(1))
        optimizer = keras.optimizers.SGD(learning_rate=keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5))
        rates = []
        for _ in range(EPOCHS * STEPS_PER_EPOCH):
            before = float(keras.ops.convert_to_numpy(v)[0])
            optimizer.apply_gradients([(keras.ops.ones(1, dtype=DTYPE), v)])
            rates.append(before - float(keras.ops.convert_to_numpy(v)[0]))
    return rates


SCHEDULES = {"torch": learning_rates(StepLR(0.1, 10, 0.5), EPOCHS * STEPS_PER_EPOCH, STEPS_PER_EPOCH),
             "keras": learning_rates(ExponentialDecay(0.1, 10, 0.5), EPOCHS * STEPS_PER_EPOCH)}


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_schedules_differ_as_documented(framework):
    needs(framework)
    actual = {"rate": np.array(torch_step_lr() if framework == "torch" else keras_exponential_decay())}
    own, other = ({"rate": np.array(SCHEDULES[c])} for c in (framework, {"torch": "keras"}.get(framework, "torch")))
    assert_agree(actual, own, atol=TOL.atol, rtol=TOL.rtol, what=f"{framework}'s schedule vs its own convention")
    assert not compare(actual, other, atol=TOL.atol, rtol=TOL.rtol).passed
    # measured: step 9 (the 10th step) runs at 0.0536 in Keras, still 0.1 in torch; torch halves at step 40
    assert SCHEDULES["keras"][9] == pytest.approx(0.05359, abs=1e-5) and SCHEDULES["torch"][9] == 0.1


def test_keras_schedule_is_float32_even_in_float64():
    """Keras's rates are the float32 formula: 5.16e-9 from the float64 one (beyond the float64 tolerance), and the
    reference's float32 ExponentialDecay is exact."""
    needs("keras")
    rates = np.array(keras_exponential_decay())
    exact = np.array([0.1 * 0.5 ** (k / 10) for k in range(len(rates))])
    assert np.max(np.abs(rates - exact)) == pytest.approx(5.164e-9, rel=0.01)
    np.testing.assert_array_equal(rates, SCHEDULES["keras"])


# ----- gradient accumulation --------------------------------------------------------------------------------

def micro_batches():
    rng = np.random.default_rng(0)
    X, y, w = rng.normal(size=(16, 3)), rng.normal(size=16), rng.normal(size=3)
    return w, [(X[i:i + 4], y[i:i + 4]) for i in range(0, 16, 4)]


def numpy_gradient(w, X, y):
    """d/dw of mean((X w - y)**2)."""
    return {"w": 2 * X.T @ (X @ w - y) / len(y)}


def accumulated(framework: str) -> dict:
    w, batches = micro_batches()
    if framework == "torch":  # the usual loop: backward() per micro-batch, one step()
        import torch

        wt = torch.tensor(w, requires_grad=True)
        optimizer = torch.optim.SGD([wt], lr=0.1)
        for X, y in batches:
            ((torch.tensor(X) @ wt - torch.tensor(y)) ** 2).mean().backward()
        optimizer.step()
        return {"w": wt.detach().numpy()}
    import keras

    from frameworks.keras_twin import keras_dtype

    with keras_dtype(DTYPE):
        v = keras.Variable(w)
        optimizer = keras.optimizers.SGD(learning_rate=np.float64(0.1), gradient_accumulation_steps=4)
        for X, y in batches:
            g = numpy_gradient(keras.ops.convert_to_numpy(v), X, y)["w"]
            optimizer.apply_gradients([(keras.ops.convert_to_tensor(g), v)])
        return {"w": keras.ops.convert_to_numpy(v)}


def test_dividing_each_micro_batch_loss_by_k_gives_keras_s_accumulation_in_torch():
    """The setting that closes the gap: torch's loop with ``(loss / 4).backward()`` steps as Keras's
    ``gradient_accumulation_steps=4`` does."""
    needs("torch")
    import torch

    w, batches = micro_batches()
    wt = torch.tensor(w, requires_grad=True)
    optimizer = torch.optim.SGD([wt], lr=0.1)
    for X, y in batches:
        (((torch.tensor(X) @ wt - torch.tensor(y)) ** 2).mean() / len(batches)).backward()
    optimizer.step()
    assert_agree({"w": wt.detach().numpy()}, accumulated_reference("keras"), atol=TOL.atol, rtol=TOL.rtol,
                 what="torch with each loss / 4 vs Keras's accumulation")


def accumulated_reference(convention: str) -> dict:
    w, batches = micro_batches()
    params = {"w": w.copy()}
    SGD(0.1).update(params, accumulate_gradients([numpy_gradient(w, X, y) for X, y in batches], convention))
    return params


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_gradient_accumulation_sums_in_torch_and_averages_in_keras(framework):
    needs(framework)
    own, other = accumulated_reference(framework), accumulated_reference("keras" if framework == "torch" else "torch")
    actual = accumulated(framework)
    assert_agree(actual, own, atol=TOL.atol, rtol=TOL.rtol, what=f"accumulation: {framework} vs its own convention")
    assert not compare(actual, other, atol=TOL.atol, rtol=TOL.rtol).passed
    w, _ = micro_batches()
    moved = {c: accumulated_reference(c)["w"] - w for c in ("torch", "keras")}
    np.testing.assert_allclose(moved["torch"], 4 * moved["keras"], rtol=1e-12)  # 4 micro-batches: 4x


# ----- clipping: per variable (Keras clipnorm) against the global norm (torch clip_grad_norm_) -------------

FOUR_UNIT_GRADIENTS = {f"g{i}": np.eye(4)[i] for i in range(4)}  # four tensors of norm 1, global norm 2


def clipped_update(framework: str) -> dict:
    if framework == "torch":
        import torch

        params = [torch.zeros(4, dtype=torch.float64, requires_grad=True) for _ in range(4)]
        for p, g in zip(params, FOUR_UNIT_GRADIENTS.values()):
            p.grad = torch.tensor(g)
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        torch.optim.SGD(params, lr=1.0).step()
        return {k: -p.detach().numpy() for k, p in zip(FOUR_UNIT_GRADIENTS, params)}
    import keras

    from frameworks.keras_twin import keras_dtype

    with keras_dtype(DTYPE):
        params = [keras.Variable(np.zeros(4)) for _ in range(4)]
        keras.optimizers.SGD(learning_rate=np.float64(1.0), clipnorm=np.float64(1.0)).apply_gradients(
            [(keras.ops.convert_to_tensor(g), p) for g, p in zip(FOUR_UNIT_GRADIENTS.values(), params)])
        return {k: -keras.ops.convert_to_numpy(p) for k, p in zip(FOUR_UNIT_GRADIENTS, params)}


CLIPPED = {"torch": clip_gradients(FOUR_UNIT_GRADIENTS, convention="torch", global_clipnorm=1.0),
           "keras": clip_gradients(FOUR_UNIT_GRADIENTS, convention="keras", clipnorm=1.0)}


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_clipnorm_is_per_variable_in_keras_and_global_in_torch_s_usual_loop(framework):
    needs(framework)
    actual = clipped_update(framework)
    assert_agree(actual, CLIPPED[framework], atol=TOL.atol, rtol=TOL.rtol, what=f"{framework}'s clipped update")
    assert not compare(actual, CLIPPED["keras" if framework == "torch" else "torch"], atol=TOL.atol,
                       rtol=TOL.rtol).passed
    norm = np.sqrt(sum(np.sum(g**2) for g in actual.values()))
    assert norm == pytest.approx({"torch": 1.0, "keras": 2.0}[framework], rel=1e-5)  # measured: 1.0 against 2.0


# ----- the batches of a training call with no batch setting ------------------------------------------------

def linear_data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(N, 2)), rng.normal(size=(N, 1)), {"W1": rng.normal(size=(2, 1)), "b1": np.zeros(1)}


def keras_fit(**options) -> tuple[dict, int]:
    """One epoch of Keras's fit on a linear model (MSE, SGD 0.1), with ``options``; (weights, steps taken)."""
    import keras

    from frameworks.keras_twin import keras_dtype

    X, y, params = linear_data()
    steps = []
    with keras_dtype(DTYPE):
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.layers[0].set_weights([params["W1"], params["b1"]])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=np.float64(0.1)), loss="mse")
        model.fit(X, y, epochs=1, verbose=0, callbacks=[keras.callbacks.LambdaCallback(
            on_train_batch_end=lambda batch, logs: steps.append(batch))], **options)
        kernel, bias = model.layers[0].get_weights()
    return {"W1": kernel, "b1": bias}, len(steps)


def test_keras_fit_defaults_to_shuffled_batches_of_32():
    needs("keras")
    X, y, params = linear_data()
    in_order = MiniBatches(N, DEFAULT_BATCHES["keras"]["batch_size"], shuffle=False).epoch(0)
    expected = MLP({k: v.copy() for k, v in params.items()}, ("linear",), "mse").train(
        X, y, SGD(0.1), in_order, (len(in_order),))[len(in_order)]
    unshuffled, steps = keras_fit(shuffle=False)
    assert steps == default_batches(N, "keras").steps_per_epoch == 4  # 32, 32, 32, 4
    assert_agree(unshuffled, expected, atol=TOL.atol, rtol=TOL.rtol, what="fit(shuffle=False) vs batches of 32")
    default, steps = keras_fit()
    assert steps == 4
    assert not compare(default, expected, atol=TOL.atol, rtol=TOL.rtol).passed, "fit's default no longer shuffles"


def test_torch_dataloader_defaults_to_batches_of_one_in_order():
    needs("torch")
    import torch

    X, y, _ = linear_data()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(X), torch.tensor(y)))
    assert len(loader) == default_batches(N, "torch").steps_per_epoch == N
    first = next(iter(loader))[0].numpy()
    np.testing.assert_array_equal(first, X[:1])  # in order


# ----- mixed precision: the loss scale ----------------------------------------------------------------------

def test_loss_scaling_starts_at_2_15_in_keras_and_2_16_in_torch():
    """Dynamic loss scaling: Keras's LossScaleOptimizer starts at 2**15, torch's GradScaler at 2**16; both grow it
    after 2000 clean steps. Read from the objects themselves (torch's on the CPU, where it runs here)."""
    needs("torch")
    needs("keras")
    import inspect

    import keras
    import torch

    scaler = torch.amp.GradScaler("cpu")
    assert scaler.get_scale() == 2.0**16 and scaler.get_growth_interval() == 2000
    keras_scale = inspect.signature(keras.optimizers.LossScaleOptimizer).parameters
    optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD())
    assert optimizer.initial_scale == keras_scale["initial_scale"].default == 2.0**15
    assert keras_scale["dynamic_growth_steps"].default == 2000


# ----- mixed precision: binary cross-entropy of saturated float16 probabilities ------------------------------

# (y, p): a saturated wrong prediction, a saturated right one, a p of 0 for y = 1 (a float16 sigmoid saturates)
BCE16_Y = np.array([[0.0], [1.0], [1.0]])
BCE16_P = np.array([[1.0], [1.0], [0.0]])


def bce16_formula(convention: str, clip_dtype: str = "float64") -> np.ndarray:
    """The reference's BCE of each sample alone, under ``convention`` (Keras: clipped in ``clip_dtype``)."""
    loss = BinaryCrossEntropy(convention, clip_dtype=clip_dtype)
    return np.array([[loss.forward(p[None], y[None])] for p, y in zip(BCE16_P, BCE16_Y)])


def keras_mixed_float16():
    """Keras under the mixed_float16 policy; the caller restores the policy it returns."""
    needs("keras")
    import keras

    if keras.backend.backend() != "tensorflow":
        pytest.skip("Keras on TensorFlow: on the torch backend binary_crossentropy calls torch's (log clamped at -100)")
    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    return keras, before


def test_float16_bce_is_inf_and_nan_in_keras_s_function_and_100_in_torch():
    """Keras's binary_crossentropy *function* (keras.losses and keras.ops) on float16 tensors clips p to
    [1e-7, 1 - 1e-7] in float16, where 1 - 1e-7 is 1: a saturated p = 1 gives log(0), so inf for y = 0 and
    nan for y = 1. torch's BCELoss clamps each log at -100: 100 and 0. Each framework's float16 numbers are its
    own formula rounded to float16, exactly."""
    needs("torch")
    import torch

    keras, before = keras_mixed_float16()
    try:
        y16, p16 = BCE16_Y.astype("float16"), BCE16_P.astype("float16")
        from_ops = keras.ops.convert_to_numpy(keras.ops.binary_crossentropy(y16, p16))
        from_losses = keras.ops.convert_to_numpy(keras.losses.binary_crossentropy(y16, p16))[:, None]
    finally:
        keras.config.set_dtype_policy(before)
    from_torch = torch.nn.BCELoss(reduction="none")(torch.tensor(p16), torch.tensor(y16)).numpy()
    assert keras_clip_range("float16")[1] == 1.0  # why: 1 - 1e-7 rounds to 1 in float16
    keras_formula = bce16_formula("keras", clip_dtype="float16").astype("float16")
    torch_formula = bce16_formula("torch").astype("float16")
    np.testing.assert_array_equal(keras_formula[:2], [[np.inf], [np.nan]])
    np.testing.assert_array_equal(torch_formula, [[100.0], [0.0], [100.0]])
    for name, actual, own, other in (("keras.ops", from_ops, keras_formula, torch_formula),
                                     ("keras.losses", from_losses, keras_formula, torch_formula),
                                     ("torch", from_torch, torch_formula, keras_formula)):
        assert_agree({"loss": actual}, {"loss": own}, atol=0.0, rtol=0.0, dtype="float16",
                     what=f"float16 BCE: {name} vs its own formula")
        assert not compare({"loss": actual}, {"loss": other}, atol=0.0, rtol=0.0).passed, name


def test_keras_compile_computes_a_float16_model_s_bce_in_float32():
    """The inf needs the function form: a Loss object (BinaryCrossentropy(), and what compile(loss=...) wraps,
    string or function) computes in keras.config.floatx(), float32, even under mixed_float16, so a float16
    sigmoid saturated at 1 is clipped at 1 - 1.19e-7 and the loss is finite (15.94 where y = 0)."""
    keras, before = keras_mixed_float16()
    try:
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, activation="sigmoid",
                                                                        kernel_initializer="ones")])
        X = np.array([[20.0], [20.0], [-20.0]])  # float16 sigmoids of +-20: exactly 1 and 0
        p16 = keras.ops.convert_to_numpy(model(X))
        np.testing.assert_array_equal(p16, BCE16_P.astype("float16"))
        by_object = keras.losses.BinaryCrossentropy()(BCE16_Y.astype("float16"), p16)
        by_compile = {}
        for name, loss in (("compile(loss='binary_crossentropy')", "binary_crossentropy"),
                           ("compile(loss=keras.losses.binary_crossentropy)", keras.losses.binary_crossentropy)):
            model.compile(optimizer="sgd", loss=loss)
            by_compile[name] = model.evaluate(X, BCE16_Y, verbose=0)
    finally:
        keras.config.set_dtype_policy(before)
    assert keras.ops.convert_to_numpy(by_object).dtype == np.float32
    own = bce16_formula("keras", clip_dtype="float32").mean()  # 15.942, 1.2e-7, 16.118
    tol = tolerance("float32")
    for name, value in {"BinaryCrossentropy()": by_object, **by_compile}.items():
        assert_agree({"loss": np.float32(value)}, {"loss": own}, atol=tol.atol, rtol=tol.rtol,
                     what=f"{name} under mixed_float16 vs Keras's float32 formula")
        assert np.isfinite(value) and not compare({"loss": np.float32(value)}, {"loss": bce16_formula("torch").mean()},
                                                  atol=tol.atol, rtol=tol.rtol).passed, name
