"""Every row of the conventions table (``frameworks/conventions.py``) is true of the installed frameworks.

One proof per row, named by the row's ``key``; a row without a proof fails.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

from frameworks import unavailable_reason
from frameworks.conventions import TORCH_VS_KERAS, conventions_for


def need(*frameworks):
    for fw in frameworks:
        reason = unavailable_reason(fw)
        if reason:
            pytest.skip(reason)


def default(fn, name):
    return inspect.signature(fn).parameters[name].default


def keras_module():
    need("keras")
    import keras

    import frameworks.keras_twin  # noqa: F401  (sets the backend and TF's options before keras loads)

    return keras


def prove_dense_layout():
    need("torch")
    import torch

    assert torch.nn.Linear(3, 2).weight.shape == (2, 3)
    keras = keras_module()
    layer = keras.layers.Dense(2)
    layer.build((None, 3))
    assert tuple(layer.kernel.shape) == (3, 2)


def prove_dense_init():
    need("torch")
    import torch

    torch.manual_seed(0)
    layer = torch.nn.Linear(100, 50)
    bound = 1 / math.sqrt(100)
    for p in (layer.weight.detach(), layer.bias.detach()):
        assert bound * 0.9 < float(p.abs().max()) <= bound
    keras = keras_module()
    layer = keras.layers.Dense(2)
    assert type(layer.kernel_initializer).__name__ == "GlorotUniform"
    assert type(layer.bias_initializer).__name__ == "Zeros"


def prove_leaky_relu_slope():
    need("torch")
    import torch.nn.functional as F

    assert default(F.leaky_relu, "negative_slope") == 0.01
    keras = keras_module()
    assert default(keras.activations.leaky_relu, "negative_slope") == 0.2
    assert keras.layers.LeakyReLU().negative_slope == 0.3
    out = float(keras.activations.leaky_relu(np.array([-1.0]), negative_slope=0.01)[0])
    assert out == -float(np.float32(0.01)) != -0.01  # the slope went through float32


def prove_relu_kink():
    need("torch")
    import torch

    z = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    torch.relu(z).sum().backward()
    assert float(z.grad[0]) == 0.0
    keras_module()
    import tensorflow as tf

    z = tf.Variable([0.0], dtype=tf.float64)
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.nn.relu(z))
    assert float(tape.gradient(y, z)[0]) == 0.0


def prove_bce_probabilities():
    need("torch")
    import torch
    import torch.nn.functional as F

    p, y = torch.tensor([0.0], dtype=torch.float64), torch.tensor([1.0], dtype=torch.float64)
    assert float(F.binary_cross_entropy(p, y)) == 100.0
    keras = keras_module()
    value = float(keras.losses.BinaryCrossentropy(dtype="float64")(np.array([[1.0]]), np.array([[0.0]])))
    assert value == pytest.approx(-math.log(1e-7), rel=1e-6)  # 16.118


def prove_keras_logits():
    need("torch")
    import torch
    import torch.nn.functional as F

    z = torch.tensor([40.0], dtype=torch.float64)
    assert float(F.binary_cross_entropy(torch.sigmoid(z), torch.zeros(1, dtype=torch.float64))) == 100.0
    keras = keras_module()
    p = keras.activations.sigmoid(keras.ops.convert_to_tensor(np.array([[40.0]])))
    value = float(keras.losses.BinaryCrossentropy(dtype="float64")(np.array([[0.0]]), p))
    assert value == pytest.approx(40.0, rel=1e-12)  # from the logits: exact
    assert float(keras.ops.convert_to_numpy(p)[0, 0]) == 1.0  # what a clip would have seen


def prove_cce_renormalises():
    need("torch")
    import torch
    import torch.nn.functional as F

    p = np.array([[0.4, 0.4]])
    y = np.array([[1.0, 0.0]])
    torch_value = float(F.nll_loss(torch.log(torch.tensor(p)), torch.tensor([0])))
    assert torch_value == pytest.approx(-math.log(0.4), rel=1e-12)
    keras = keras_module()
    keras_value = float(keras.losses.CategoricalCrossentropy(dtype="float64")(y, p))
    assert keras_value == pytest.approx(-math.log(0.5), rel=1e-12)


def prove_mse_sum():
    need("torch")
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(0)
    p, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    torch_sum = float(F.mse_loss(torch.tensor(p), torch.tensor(y), reduction="sum"))
    keras = keras_module()
    keras_sum = float(keras.losses.MeanSquaredError(reduction="sum", dtype="float64")(y, p))
    assert torch_sum / keras_sum == pytest.approx(3.0, rel=1e-12)


def prove_sgd_default_lr():
    need("torch")
    import torch

    assert default(torch.optim.SGD, "lr") == 1e-3
    keras = keras_module()
    assert default(keras.optimizers.SGD, "learning_rate") == 0.01


def prove_float32_hyperparameters():
    keras = keras_module()
    if keras.backend.backend() != "tensorflow":
        pytest.skip("this convention is the TensorFlow backend's")
    cast = float(keras.ops.cast(0.9, "float64"))
    assert cast == float(np.float32(0.9)) == 0.8999999761581421
    assert float(keras.ops.cast(np.float64(0.9), "float64")) == 0.9


def prove_adam_epsilon():
    """One Adam step on a gradient so small that epsilon matters, against both formulas."""
    need("torch")
    import torch

    assert default(torch.optim.Adam, "eps") == 1e-8
    lr, b1, b2, eps, g = 0.1, 0.9, 0.999, 1e-3, 1e-6
    w = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    w.grad = torch.tensor([g], dtype=torch.float64)
    torch.optim.Adam([w], lr=lr, betas=(b1, b2), eps=eps).step()
    torch_w = float(w.detach()[0])
    assert torch_w == pytest.approx(1 - lr * g / (g + eps), rel=1e-14)  # eps on sqrt(v_hat) = |g|

    keras = keras_module()
    from frameworks.keras_twin import keras_dtype

    assert default(keras.optimizers.Adam, "epsilon") == 1e-7
    with keras_dtype("float64"):
        var = keras.Variable(np.array([1.0]))
        opt = keras.optimizers.Adam(learning_rate=np.float64(lr), beta_1=np.float64(b1),
                                    beta_2=np.float64(b2), epsilon=np.float64(eps))
        opt.apply_gradients([(keras.ops.convert_to_tensor(np.array([g])), var)])
    keras_w = float(var.numpy()[0])
    # eps on sqrt(v) = sqrt(1 - b2) |g|: in torch's terms, eps / sqrt(1 - b2)
    assert keras_w == pytest.approx(1 - lr * g / (g + eps / math.sqrt(1 - b2)), rel=1e-12)
    assert abs(keras_w - torch_w) > 1e-6


def prove_gelu_default():
    need("torch")
    import torch

    z = torch.tensor([1.0], dtype=torch.float64)
    assert float(torch.nn.functional.gelu(z)) == pytest.approx(0.5 * (1 + math.erf(1 / math.sqrt(2))), rel=1e-15)
    keras = keras_module()
    assert default(keras.ops.gelu, "approximate") is True and default(keras.activations.gelu, "approximate") is False
    tanh = 0.5 * (1 + math.tanh(math.sqrt(2 / math.pi) * (1 + 0.044715)))
    assert float(keras.ops.gelu(np.array([1.0]))[0]) == pytest.approx(tanh, rel=1e-6)
    assert abs(tanh - 0.5 * (1 + math.erf(1 / math.sqrt(2)))) > 1e-4
    if keras.backend.backend() == "tensorflow":  # TensorFlow casts 1/sqrt(2) through float32 (gelu-float32-constant)
        exact = float(keras.activations.gelu(np.array([1.5]))[0])
        assert exact == pytest.approx(0.75 * (1 + math.erf(1.5 * float(np.float32(1 / math.sqrt(2))))), rel=1e-15)
        assert abs(exact - 0.75 * (1 + math.erf(1.5 / math.sqrt(2)))) > 1e-9  # 5.0e-9 measured


def prove_selu_at_zero():
    need("torch")
    import torch

    z = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.selu(z).sum().backward()
    assert float(z.grad[0]) == pytest.approx(1.7581, abs=1e-4)
    keras = keras_module()
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the gradient is taken with TensorFlow's GradientTape")
    import tensorflow as tf

    x = tf.Variable(np.zeros(1))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(keras.activations.selu(x))
    assert float(tape.gradient(y, x)[0]) == pytest.approx(1.0507, abs=1e-4)


def prove_softplus_threshold():
    need("torch")
    import torch

    assert float(torch.nn.functional.softplus(torch.tensor([20.1], dtype=torch.float64))[0]) == 20.1
    keras = keras_module()
    assert float(keras.activations.softplus(np.array([20.1]))[0]) - 20.1 == pytest.approx(math.exp(-20.1), rel=1e-5)


def prove_nadam_momentum_decay():
    need("torch")
    import torch

    assert default(torch.optim.NAdam, "momentum_decay") == 4e-3
    keras = keras_module()
    assert "momentum_decay" not in inspect.signature(keras.optimizers.Nadam).parameters


def prove_adamax_epsilon():
    """Two steps, gradients g then 0: torch's u is beta_2 (|g| + eps), Keras's beta_2 |g| with epsilon added after."""
    need("torch")
    import torch

    lr, g, eps, b1, b2 = 0.1, 1e-3, 1e-3, 0.9, 0.999
    m2 = b1 * (1 - b1) * g  # the first moment after the two steps
    w = torch.tensor([0.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adamax([w], lr=lr, betas=(b1, b2), eps=eps)
    for grad in (g, 0.0):
        w.grad = torch.tensor([grad], dtype=torch.float64)
        opt.step()
    step1 = lr * g / (g + eps)
    assert -float(w.detach()[0]) == pytest.approx(step1 + lr / (1 - b1**2) * m2 / (b2 * (g + eps)), rel=1e-12)
    keras = keras_module()
    from frameworks.keras_twin import keras_dtype

    with keras_dtype("float64"):
        var = keras.Variable(np.array([0.0]))
        opt = keras.optimizers.Adamax(learning_rate=np.float64(lr), beta_1=np.float64(b1), beta_2=np.float64(b2),
                                      epsilon=np.float64(eps))
        for grad in (g, 0.0):
            opt.apply_gradients([(keras.ops.convert_to_tensor(np.array([grad])), var)])
    assert -float(var.numpy()[0]) == pytest.approx(step1 + lr * m2 / ((1 - b1**2) * (b2 * g + eps)), rel=1e-12)


def prove_rho_name():
    need("torch")
    import torch

    assert "alpha" in inspect.signature(torch.optim.RMSprop).parameters
    assert "rho" not in inspect.signature(torch.optim.RMSprop).parameters
    assert "rho" in inspect.signature(torch.optim.Adadelta).parameters
    keras = keras_module()
    assert all("rho" in inspect.signature(c).parameters for c in (keras.optimizers.RMSprop, keras.optimizers.Adadelta))


def prove_adadelta_defaults():
    need("torch")
    import torch

    assert (default(torch.optim.Adadelta, "lr"), default(torch.optim.Adadelta, "rho"),
            default(torch.optim.Adadelta, "eps")) == (1.0, 0.9, 1e-6)
    keras = keras_module()
    config = keras.optimizers.Adadelta().get_config()
    assert (config["learning_rate"], config["rho"], config["epsilon"]) == pytest.approx((1e-3, 0.95, 1e-7), rel=1e-7)


def _cross_entropy_takes_logits_in_torch_probabilities_in_keras():
    need("torch")
    import torch

    p = np.array([[0.7, 0.2, 0.1]])
    torch_loss = float(torch.nn.CrossEntropyLoss()(torch.tensor(p), torch.tensor([0])))
    assert torch_loss == pytest.approx(-math.log(math.exp(0.7) / np.exp(p).sum()), rel=1e-12)  # p taken as logits
    keras = keras_module()
    from frameworks.keras_twin import keras_dtype

    with keras_dtype("float64"):
        keras_loss = float(keras.losses.CategoricalCrossentropy()(np.array([[1.0, 0, 0]]), p))
    assert keras_loss == pytest.approx(-math.log(0.7), rel=1e-12)


def prove_class_weights():
    need("torch")
    import torch

    z, labels, w = np.zeros((2, 2)), [0, 1], np.array([1.0, 3.0])  # every sample's loss is log 2
    torch_loss = float(torch.nn.CrossEntropyLoss(weight=torch.tensor(w))(torch.tensor(z), torch.tensor(labels)))
    assert torch_loss == pytest.approx(math.log(2), rel=1e-12)  # (1 + 3) log 2 / (1 + 3)
    keras = keras_module()
    from frameworks.keras_twin import keras_dtype

    with keras_dtype("float64"):
        keras_loss = float(keras.losses.CategoricalCrossentropy(from_logits=True)(np.eye(2), z, sample_weight=w))
    assert keras_loss == pytest.approx(2 * math.log(2), rel=1e-12)  # (1 + 3) log 2 / N


def prove_training_loop_defaults():
    need("torch")
    import torch

    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.zeros(10, 1)))
    assert loader.batch_size == 1 and isinstance(loader.sampler, torch.utils.data.SequentialSampler)
    keras = keras_module()
    assert default(keras.Model.fit, "batch_size") is None and default(keras.Model.fit, "shuffle") is True
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    assert keras.backend.standardize_dtype(keras.ops.convert_to_tensor(schedule(9)).dtype) == "float32"


def prove_mse_broadcasting():
    need("torch")
    import torch

    p, y = np.array([[1.0], [3.0]]), np.array([1.0, 3.0])  # each prediction equals its own target
    with pytest.warns(UserWarning):
        torch_loss = float(torch.nn.functional.mse_loss(torch.tensor(p), torch.tensor(y)))
    assert torch_loss == 2.0  # (0 + 4 + 4 + 0) / 4
    keras = keras_module()
    from frameworks.keras_twin import keras_dtype

    with keras_dtype("float64"):
        assert float(keras.losses.MeanSquaredError()(y, p)) == 0.0


def prove_amsgrad_epsilon():
    """One step on a gradient g with epsilon e: torch moves lr g / (|g| + e), Keras lr g / (|g| + e / sqrt(1 - b2))."""
    need("torch")
    import torch

    lr, g, eps = 0.1, 1e-3, 1e-3
    w = torch.tensor([0.0], dtype=torch.float64, requires_grad=True)
    w.grad = torch.tensor([g], dtype=torch.float64)
    torch.optim.Adam([w], lr=lr, eps=eps, amsgrad=True).step()
    assert -float(w.detach()[0]) == pytest.approx(lr * g / (g + eps), rel=1e-12)
    keras = keras_module()
    from frameworks.keras_twin import keras_dtype

    with keras_dtype("float64"):
        var = keras.Variable(np.array([0.0]))
        keras.optimizers.Adam(learning_rate=np.float64(lr), beta_1=np.float64(0.9), beta_2=np.float64(0.999),
                              epsilon=np.float64(eps), amsgrad=True).apply_gradients(
            [(keras.ops.convert_to_tensor(np.array([g])), var)])
    assert -float(var.numpy()[0]) == pytest.approx(lr * g / (g + eps / math.sqrt(1 - 0.999)), rel=1e-12)


def _clip_grad_norm_is_global_plus_1e_6_and_clipnorm_per_variable():
    need("torch")
    import torch

    params = [torch.zeros(2, dtype=torch.float64, requires_grad=True) for _ in range(2)]
    for p in params:
        p.grad = torch.tensor([3.0, 4.0], dtype=torch.float64)  # norm 5 each, global norm sqrt(50)
    total = float(torch.nn.utils.clip_grad_norm_(params, 1.0))
    assert total == pytest.approx(math.sqrt(50)) and float(params[0].grad.norm()) == pytest.approx(5 / (total + 1e-6))
    keras = keras_module()
    from frameworks.keras_twin import keras_dtype

    with keras_dtype("float64"):
        variables = [keras.Variable(np.zeros(2)) for _ in range(2)]
        keras.optimizers.SGD(learning_rate=np.float64(1.0), clipnorm=np.float64(1.0)).apply_gradients(
            [(keras.ops.convert_to_tensor(np.array([3.0, 4.0])), v) for v in variables])
    assert [float(np.linalg.norm(v.numpy())) for v in variables] == pytest.approx([1.0, 1.0], rel=1e-12)


def _batchnorm_after_one_batch(x, torch_momentum, keras_momentum):
    """(torch running_mean, running_var), (Keras moving_mean, moving_variance) after one training batch."""
    need("torch")
    import torch

    bn = torch.nn.BatchNorm1d(x.shape[1], momentum=torch_momentum).double().train()
    bn(torch.tensor(x))
    keras = keras_module()
    from frameworks.keras_twin import keras_dtype

    with keras_dtype("float64"):
        layer = keras.layers.BatchNormalization(momentum=keras_momentum)
        layer(keras.ops.convert_to_tensor(x), training=True)
    return ((bn.running_mean.numpy(), bn.running_var.numpy()),
            (np.array(layer.moving_mean.numpy()), np.array(layer.moving_variance.numpy())))


def prove_batchnorm_momentum():
    need("torch")
    import torch

    assert torch.nn.BatchNorm1d(2).momentum == 0.1
    assert keras_module().layers.BatchNormalization().momentum == 0.99
    x = np.random.default_rng(0).normal(size=(8, 2))
    (t_mean, _), (k_mean, _) = _batchnorm_after_one_batch(x, 0.1, 0.9)
    np.testing.assert_allclose(t_mean, 0.1 * x.mean(0), rtol=1e-14)
    np.testing.assert_allclose(k_mean, 0.1 * x.mean(0), rtol=1e-14)
    (_, _), (k_default, _) = _batchnorm_after_one_batch(x, 0.1, 0.99)
    assert not np.allclose(k_default, t_mean)


def prove_batchnorm_running_variance():
    x = np.random.default_rng(1).normal(size=(8, 2))
    (_, t_var), (_, k_var) = _batchnorm_after_one_batch(x, 0.1, 0.9)
    np.testing.assert_allclose(t_var, 0.9 + 0.1 * x.var(0, ddof=1), rtol=1e-14)
    np.testing.assert_allclose(k_var, 0.9 + 0.1 * x.var(0, ddof=0), rtol=1e-14)


def prove_norm_epsilon():
    need("torch")
    import torch

    assert torch.nn.BatchNorm1d(2).eps == torch.nn.LayerNorm(2).eps == 1e-5
    keras = keras_module()
    assert keras.layers.BatchNormalization().epsilon == keras.layers.LayerNormalization().epsilon == 1e-3


def prove_softmax_cross_entropy():
    need("torch")
    import torch
    import torch.nn.functional as F

    _cross_entropy_takes_logits_in_torch_probabilities_in_keras()
    z = torch.tensor([[2.0, -1.0, 0.5]], dtype=torch.float64)
    y = torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64)
    twice = float(F.cross_entropy(torch.softmax(z, 1), y))
    assert twice == pytest.approx(float(-(y * torch.log_softmax(torch.softmax(z, 1), 1)).sum()), rel=1e-14)
    once = float(F.cross_entropy(z, y))
    assert abs(twice - once) > 0.1
    keras = keras_module()
    from frameworks.keras_twin import keras_dtype

    with keras_dtype("float64"):
        p = keras.activations.softmax(keras.ops.convert_to_tensor(z.numpy()))
        keras_loss = float(keras.losses.CategoricalCrossentropy()(y.numpy(), p))
    assert keras_loss == pytest.approx(once, rel=1e-12)


def prove_gradient_clipping():
    need("torch")
    import torch

    assert "clipnorm" not in inspect.signature(torch.optim.SGD).parameters
    _clip_grad_norm_is_global_plus_1e_6_and_clipnorm_per_variable()
    keras = keras_module()
    from frameworks.keras_twin import keras_dtype

    moved = {}
    for option in ("clipnorm", "global_clipnorm"):
        with keras_dtype("float64"):
            a, b = keras.Variable(np.zeros(2)), keras.Variable(np.zeros(2))
            opt = keras.optimizers.SGD(learning_rate=np.float64(1.0), **{option: np.float64(1.0)})
            opt.apply([keras.ops.convert_to_tensor(np.array([3.0, 4.0])),
                       keras.ops.convert_to_tensor(np.array([0.0, 1.0]))], [a, b])
        moved[option] = (-np.array(a.numpy()), -np.array(b.numpy()))
    np.testing.assert_allclose(moved["clipnorm"][0], [0.6, 0.8], rtol=1e-12)  # each variable to norm 1
    np.testing.assert_allclose(moved["clipnorm"][1], [0.0, 1.0], rtol=1e-12)
    ga, gb = torch.tensor([3.0, 4.0], dtype=torch.float64), torch.tensor([0.0, 1.0], dtype=torch.float64)
    pa, pb = torch.zeros(2, dtype=torch.float64, requires_grad=True), torch.zeros(2, dtype=torch.float64, requires_grad=True)
    pa.grad, pb.grad = ga.clone(), gb.clone()
    torch.nn.utils.clip_grad_norm_([pa, pb], 1.0)  # all together, as global_clipnorm (up to torch's 1e-6)
    np.testing.assert_allclose(moved["global_clipnorm"][0], pa.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(moved["global_clipnorm"][1], pb.grad.numpy(), rtol=1e-6)


def prove_weight_decay():
    """Adam with weight_decay=0.1 on a zero gradient: torch's decay goes through Adam's normalisation, Keras's not."""
    need("torch")
    import torch

    w = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    w.grad = torch.zeros(1, dtype=torch.float64)
    torch.optim.Adam([w], lr=0.1, weight_decay=0.1).step()
    assert float(w.detach()[0]) == pytest.approx(0.9, rel=1e-6)  # a full Adam step of size lr
    keras = keras_module()
    from frameworks.keras_twin import keras_dtype

    with keras_dtype("float64"):
        var = keras.Variable(np.array([1.0]))
        keras.optimizers.Adam(learning_rate=np.float64(0.1), weight_decay=np.float64(0.1)).apply(
            [keras.ops.convert_to_tensor(np.zeros(1))], [var])
    assert float(var.numpy()[0]) == pytest.approx(0.99, rel=1e-12)  # p -= lr * wd * p, then no step


def _keras_one_step(optimizer_class, g, **hyper) -> float:
    """A float64 Keras variable at 0 after one step of ``optimizer_class(**hyper)`` on the gradient ``g``."""
    keras = keras_module()
    from frameworks.keras_twin import keras_dtype

    with keras_dtype("float64"):
        var = keras.Variable(np.array([0.0]))
        getattr(keras.optimizers, optimizer_class)(**{k: np.float64(v) for k, v in hyper.items()}).apply_gradients(
            [(keras.ops.convert_to_tensor(np.array([g])), var)])
    return float(var.numpy()[0])


def _torch_one_step(optimizer_class, g, **hyper) -> float:
    import torch

    w = torch.tensor([0.0], dtype=torch.float64, requires_grad=True)
    w.grad = torch.tensor([g], dtype=torch.float64)
    getattr(torch.optim, optimizer_class)([w], **hyper).step()
    return float(w.detach()[0])


def prove_rmsprop_epsilon():
    """One step, v = (1 - rho) g**2: torch lr g / (sqrt(v) + eps), Keras lr g / sqrt(v + eps)."""
    need("torch")
    import torch

    assert (default(torch.optim.RMSprop, "eps"), default(torch.optim.RMSprop, "alpha")) == (1e-8, 0.99)
    lr, rho, g, eps = 0.1, 0.9, 1e-3, 1e-3
    v = (1 - rho) * g * g
    torch_w = _torch_one_step("RMSprop", g, lr=lr, alpha=rho, eps=eps)
    assert -torch_w == pytest.approx(lr * g / (math.sqrt(v) + eps), rel=1e-12)
    keras_w = _keras_one_step("RMSprop", g, learning_rate=lr, rho=rho, epsilon=eps)
    assert -keras_w == pytest.approx(lr * g / math.sqrt(v + eps), rel=1e-12)
    assert abs(torch_w - keras_w) > 1e-3  # 0.073: sqrt(v) = 3.2e-4 against eps = 1e-3
    config = keras_module().optimizers.RMSprop().get_config()
    assert (config["epsilon"], config["rho"]) == pytest.approx((1e-7, 0.9), rel=1e-7)


def prove_adagrad_epsilon():
    """One step from the same accumulator 0.1: torch lr g / (sqrt(s) + eps), Keras lr g / sqrt(s + eps)."""
    need("torch")
    import torch

    assert (default(torch.optim.Adagrad, "eps"), default(torch.optim.Adagrad, "initial_accumulator_value")) == (1e-10, 0)
    lr, g, eps, s0 = 0.1, 1e-2, 1e-3, 0.1
    s = s0 + g * g
    torch_w = _torch_one_step("Adagrad", g, lr=lr, eps=eps, initial_accumulator_value=s0)
    assert -torch_w == pytest.approx(lr * g / (math.sqrt(s) + eps), rel=1e-12)
    keras_w = _keras_one_step("Adagrad", g, learning_rate=lr, epsilon=eps, initial_accumulator_value=s0)
    assert -keras_w == pytest.approx(lr * g / math.sqrt(s + eps), rel=1e-12)
    assert abs(torch_w - keras_w) > 1e-6  # 5.7e-6 measured
    config = keras_module().optimizers.Adagrad().get_config()
    assert (config["epsilon"], config["initial_accumulator_value"]) == pytest.approx((1e-7, 0.1), rel=1e-7)


def _nadam_first_step(lr, b1, b2, eps, g, decay_in_mu, product_in_float32) -> float:
    """-(the first NAdam step): mu_t from ``decay_in_mu``, the product from the exact 0.96 (rounded to float32 or not)."""
    mu, mu_next, product = (b1 * (1 - 0.5 * d) for d in (decay_in_mu, decay_in_mu**2, 0.96))
    product = float(np.float32(product)) if product_in_float32 else product
    m, v_hat = (1 - b1) * g, g * g
    return lr * (mu_next * m / (1 - product * mu_next) + (1 - mu) * g / (1 - product)) / (math.sqrt(v_hat) + eps)


def prove_nadam_float32_decay():
    """One float64 step: Keras's mu_t takes float32(0.96) and its product the exact 0.96; torch's (momentum_decay=1)
    mu_t the exact 0.96 and its product in float32; 5e-10 apart on this step, 2.1e-8 after 20 (compare_models)."""
    need("torch")
    lr, b1, b2, eps, g = 0.1, 0.9, 0.999, 1e-7, 0.5
    torch_w = _torch_one_step("NAdam", g, lr=lr, betas=(b1, b2), eps=eps, momentum_decay=1.0)
    assert -torch_w == pytest.approx(_nadam_first_step(lr, b1, b2, eps, g, 0.96, True), rel=1e-14)
    keras = keras_module()
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the float32 0.96 is TensorFlow's cast")
    keras_w = _keras_one_step("Nadam", g, learning_rate=lr, beta_1=b1, beta_2=b2, epsilon=eps)
    assert -keras_w == pytest.approx(_nadam_first_step(lr, b1, b2, eps, g, float(np.float32(0.96)), False), rel=1e-14)
    assert abs(torch_w - keras_w) > 1e-10  # 5.0e-10 measured, a float64 step being exact to about 1e-16


def prove_elu_alpha():
    need("torch")
    import torch

    assert torch.nn.ELU().alpha == 1.0 and float(torch.nn.ELU(alpha=0.5)(torch.tensor([-1.0]))[0]) == pytest.approx(
        0.5 * (math.exp(-1) - 1), rel=1e-6)
    keras = keras_module()
    assert keras.activations.get("elu") is keras.activations.elu and default(keras.activations.elu, "alpha") == 1.0
    assert float(keras.layers.ELU(alpha=0.5)(np.array([-1.0]))[0]) == pytest.approx(0.5 * (math.exp(-1) - 1), rel=1e-6)


def prove_softplus_beta():
    need("torch")
    import torch

    z = torch.tensor([1.0], dtype=torch.float64)
    assert float(torch.nn.Softplus(beta=2.0)(z)[0]) == pytest.approx(math.log1p(math.exp(2.0)) / 2, rel=1e-14)
    keras = keras_module()
    assert list(inspect.signature(keras.activations.softplus).parameters) == ["x"]


def prove_hardtanh_range():
    need("torch")
    import torch

    layer = torch.nn.Hardtanh(min_val=-2.0, max_val=3.0)
    assert (torch.nn.Hardtanh().min_val, torch.nn.Hardtanh().max_val) == (-1.0, 1.0)
    assert layer(torch.tensor([-5.0, 5.0])).tolist() == [-2.0, 3.0]
    keras = keras_module()
    assert list(inspect.signature(keras.activations.hard_tanh).parameters) == ["x"]
    assert np.asarray(keras.activations.hard_tanh(np.array([-5.0, 5.0]))).tolist() == [-1.0, 1.0]


def prove_hardtanh_at_edges():
    need("torch")
    import torch

    z = torch.tensor([-1.0, 1.0], dtype=torch.float64, requires_grad=True)
    torch.nn.functional.hardtanh(z).sum().backward()
    assert z.grad.tolist() == [0.0, 0.0]
    keras = keras_module()
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the gradient is taken with TensorFlow's GradientTape")
    import tensorflow as tf

    x = tf.Variable(np.array([-1.0, 1.0]))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(keras.activations.hard_tanh(x))
    assert tape.gradient(y, x).numpy().tolist() == [1.0, 1.0]


PROOFS = {name[len("prove_"):].replace("_", "-"): fn for name, fn in dict(globals()).items() if name.startswith("prove_")}


def test_every_row_has_a_proof():
    assert sorted(PROOFS) == sorted(TORCH_VS_KERAS)


@pytest.mark.parametrize("key", sorted(TORCH_VS_KERAS))
def test_convention_holds(key):
    PROOFS[key]()


def test_conventions_for_a_component_and_its_kind():
    assert [r.key for r in conventions_for("bce")] == ["bce-probabilities", "keras-logits"]
    assert "float32-hyperparameters" in [r.key for r in conventions_for("sgd", "optimizer")]
    assert "float32-hyperparameters" not in [r.key for r in conventions_for("sgd")]
