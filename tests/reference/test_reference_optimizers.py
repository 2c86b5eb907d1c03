"""The reference's optimizers, clipping and mini-batches on their own: first steps worked out by hand, bad input.

The conformance suite compares these against PyTorch and Keras; here each
formula is checked against its closed form on one step (where m, v and the
accumulators reduce to simple expressions), so a mistake shows even with no
framework installed.
"""

from __future__ import annotations

import numpy as np
import pytest

from reference import (
    CONVENTIONS,
    MLP,
    OPTIMIZERS,
    SGD,
    Adagrad,
    Adam,
    AdamW,
    MiniBatches,
    RMSprop,
    clip_gradients,
    get_optimizer,
)

G = np.array([0.5, -2e-3, 3e-7, 0.0])  # a large, a small, a tiny and a zero gradient


def one_step(opt, g=G, p0=1.0):
    params = {"W1": np.full(g.shape, p0)}
    opt.update(params, {"W1": g.copy()})
    return params["W1"]


def two_steps(opt, g1, g2, p0=1.0):
    params = {"W1": np.full(np.shape(g1), p0)}
    opt.update(params, {"W1": np.array(g1, dtype=float)})
    opt.update(params, {"W1": np.array(g2, dtype=float)})
    return params["W1"]


# ----- first steps in closed form ----------------------------------------------------------------------------

@pytest.mark.parametrize("convention", CONVENTIONS)
def test_momentum_two_steps(convention):
    # torch: b1 = g1, b2 = 0.9 b1 + g2.  Keras: m1 = -lr g1, m2 = 0.9 m1 - lr g2.  The same weights.
    out = two_steps(SGD(0.1, momentum=0.9, convention=convention), [0.5], [0.25])
    np.testing.assert_allclose(out, [1 - 0.1 * 0.5 - 0.1 * (0.9 * 0.5 + 0.25)], rtol=1e-15)


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_nesterov_two_steps(convention):
    # p2 = p1 - lr (g2 + mu b2), b2 = mu g1 + g2, after p1 = p0 - lr (g1 + mu g1)
    out = two_steps(SGD(0.1, momentum=0.9, nesterov=True, convention=convention), [0.5], [0.25])
    p1 = 1 - 0.1 * (0.5 + 0.9 * 0.5)
    np.testing.assert_allclose(out, [p1 - 0.1 * (0.25 + 0.9 * (0.9 * 0.5 + 0.25))], rtol=1e-15)


def test_momentum_conventions_part_when_the_learning_rate_changes():
    # torch's buffer holds gradients, Keras's velocity holds steps taken at the old rate.
    torch_opt, keras_opt = (SGD(0.1, momentum=0.9, convention=c) for c in CONVENTIONS)
    params = {c: {"W1": np.array([1.0])} for c in CONVENTIONS}
    for opt, c in ((torch_opt, "torch"), (keras_opt, "keras")):
        opt.update(params[c], {"W1": np.array([0.5])})
        opt.learning_rate = 0.01
        opt.update(params[c], {"W1": np.array([0.5])})
    assert params["torch"]["W1"][0] == pytest.approx(1 - 0.05 - 0.01 * (0.9 * 0.5 + 0.5), rel=1e-15)
    assert params["keras"]["W1"][0] == pytest.approx(1 - 0.05 + (0.9 * -0.05 - 0.01 * 0.5), rel=1e-15)


def test_adam_first_step_puts_epsilon_where_each_framework_does():
    # After one step m/(1 - b1) = g and v/(1 - b2) = g**2, so torch moves lr * g / (|g| + eps),
    # and Keras lr * g / (|g| + eps / sqrt(1 - b2)): its "epsilon hat" is 31.6x larger here.
    lr, eps, b2 = 1e-3, 1e-7, 0.999
    torch_out = one_step(Adam(lr, 0.9, b2, eps, convention="torch"))
    keras_out = one_step(Adam(lr, 0.9, b2, eps, convention="keras"))
    np.testing.assert_allclose(torch_out, 1 - lr * G / (np.abs(G) + eps), rtol=1e-14)
    np.testing.assert_allclose(keras_out, 1 - lr * G / (np.abs(G) + eps / np.sqrt(1 - b2)), rtol=1e-14)
    assert abs(torch_out[2] - keras_out[2]) > 1e-4  # on the tiny gradient the two are far apart


def test_adam_weight_decay_is_l2_in_torch_and_decoupled_in_keras():
    lr, wd, eps = 1e-3, 0.1, 1e-8
    torch_out = one_step(Adam(lr, epsilon=eps, weight_decay=wd, convention="torch"))
    keras_out = one_step(Adam(lr, epsilon=eps, weight_decay=wd, convention="keras"))
    g_l2 = G + wd * 1.0  # the decay joins the gradient, then is normalised with it
    np.testing.assert_allclose(torch_out, 1 - lr * g_l2 / (np.abs(g_l2) + eps), rtol=1e-14)
    decayed = 1 - lr * wd
    np.testing.assert_allclose(keras_out, decayed - lr * G / (np.abs(G) + eps / np.sqrt(0.001)), rtol=1e-14)


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_adamw_decays_before_the_adam_step_in_both(convention):
    lr, wd = 1e-3, 0.01
    out = one_step(AdamW(lr, epsilon=0.0, weight_decay=wd, convention=convention), g=np.array([0.5, -0.25]))
    np.testing.assert_allclose(out, (1 - lr * wd) - lr * np.sign([0.5, -0.25]), rtol=1e-15)


def test_rmsprop_first_step_epsilon_outside_vs_inside_the_root():
    lr, rho, eps = 1e-3, 0.9, 1e-7
    v = (1 - rho) * G**2
    np.testing.assert_allclose(one_step(RMSprop(lr, rho, epsilon=eps, convention="torch")),
                               1 - lr * G / (np.sqrt(v) + eps), rtol=1e-14)
    np.testing.assert_allclose(one_step(RMSprop(lr, rho, epsilon=eps, convention="keras")),
                               1 - lr * G / np.sqrt(v + eps), rtol=1e-14)


def test_centered_rmsprop_divides_by_the_variance():
    lr, rho, eps = 1e-3, 0.9, 1e-7
    v, mg = (1 - rho) * G**2, (1 - rho) * G
    var = v - mg**2
    np.testing.assert_allclose(one_step(RMSprop(lr, rho, epsilon=eps, centered=True, convention="torch")),
                               1 - lr * G / (np.sqrt(var) + eps), rtol=1e-14)
    np.testing.assert_allclose(one_step(RMSprop(lr, rho, epsilon=eps, centered=True, convention="keras")),
                               1 - lr * G / np.sqrt(var + eps), rtol=1e-14)


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_rmsprop_momentum_two_steps_at_a_constant_rate_agree(convention):
    lr, rho, mu = 1e-2, 0.9, 0.5
    g1, g2 = 0.5, 0.25
    v1 = (1 - rho) * g1**2
    v2 = rho * v1 + (1 - rho) * g2**2
    root = (lambda v: np.sqrt(v) + 1e-7) if convention == "torch" else (lambda v: np.sqrt(v + 1e-7))
    b1 = g1 / root(v1)
    b2 = mu * b1 + g2 / root(v2)
    out = two_steps(RMSprop(lr, rho, momentum=mu, epsilon=1e-7, convention=convention), [g1], [g2])
    np.testing.assert_allclose(out, [1 - lr * b1 - lr * b2], rtol=1e-14)


def test_adagrad_accumulator_and_epsilon():
    lr, a0, eps = 1e-2, 0.1, 1e-7
    s = a0 + G**2
    np.testing.assert_allclose(one_step(Adagrad(lr, a0, eps, convention="torch")),
                               1 - lr * G / (np.sqrt(s) + eps), rtol=1e-14)
    np.testing.assert_allclose(one_step(Adagrad(lr, a0, eps, convention="keras")),
                               1 - lr * G / np.sqrt(s + eps), rtol=1e-14)
    # torch's default accumulator 0: the first step is about lr * sign(g)
    np.testing.assert_allclose(one_step(Adagrad(lr, convention="torch"))[:2], 1 - lr * np.sign(G[:2]), rtol=1e-7)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_defaults_follow_the_convention(name):
    for convention in CONVENTIONS:
        opt = get_optimizer(name, convention=convention)
        assert {k: getattr(opt, k) for k in OPTIMIZERS[name].defaults[convention]} == \
            OPTIMIZERS[name].defaults[convention]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_each_parameter_keeps_its_own_state(name):
    opt = get_optimizer(name, convention="keras", learning_rate=0.1)
    params = {"W1": np.ones((2, 2)), "b1": np.ones(2)}
    grads = {"W1": np.full((2, 2), 0.3), "b1": np.full(2, -0.7)}
    opt.update(params, grads)
    opt.update(params, grads)
    alone = get_optimizer(name, convention="keras", learning_rate=0.1)
    b_alone = {"b1": np.ones(2)}
    alone.update(b_alone, {"b1": grads["b1"]})
    alone.update(b_alone, {"b1": grads["b1"]})
    np.testing.assert_array_equal(params["b1"], b_alone["b1"])
    assert opt.iterations == 2


# ----- clipping ----------------------------------------------------------------------------------------------

GRADS = {"W1": np.array([[3.0, 4.0]]), "b1": np.array([0.1])}  # norms 5 and 0.1; global sqrt(25.01)


def test_clipvalue_clamps_every_element():
    out = clip_gradients(GRADS, clipvalue=0.5)
    np.testing.assert_array_equal(out["W1"], [[0.5, 0.5]])
    np.testing.assert_array_equal(out["b1"], [0.1])


def test_global_clipnorm_torch_adds_1e6_keras_does_not():
    norm = np.sqrt(25.01)
    torch_out = clip_gradients(GRADS, global_clipnorm=1.0, convention="torch")
    keras_out = clip_gradients(GRADS, global_clipnorm=1.0, convention="keras")
    np.testing.assert_allclose(torch_out["W1"], GRADS["W1"] / (norm + 1e-6), rtol=1e-15)
    np.testing.assert_allclose(keras_out["W1"], GRADS["W1"] / norm, rtol=1e-15)
    assert np.sqrt(sum(np.sum(g**2) for g in keras_out.values())) == pytest.approx(1.0, rel=1e-15)


def test_clipnorm_clips_each_tensor_on_its_own():
    for convention in CONVENTIONS:
        out = clip_gradients(GRADS, clipnorm=1.0, convention=convention)
        assert np.linalg.norm(out["W1"]) == pytest.approx(1.0, rel=1e-5)
        np.testing.assert_array_equal(out["b1"], GRADS["b1"])  # norm 0.1 < 1: left alone


def test_inactive_clipping_changes_nothing():
    out = clip_gradients(GRADS, global_clipnorm=100.0, convention="torch")
    np.testing.assert_array_equal(out["W1"], GRADS["W1"])


def test_optimizer_clips_before_the_update():
    params = {"W1": np.zeros((1, 2)), "b1": np.zeros(1)}
    SGD(1.0, global_clipnorm=1.0, convention="keras").update(params, GRADS)
    assert np.sqrt(sum(np.sum(p**2) for p in params.values())) == pytest.approx(1.0, rel=1e-15)


# ----- mini-batches ------------------------------------------------------------------------------------------

def test_every_epoch_visits_every_sample_once_in_a_new_order():
    batches = MiniBatches(10, 4, seed=3)
    e0, e1 = batches.epoch(0), batches.epoch(1)
    assert [len(b) for b in e0] == [4, 4, 2]  # the last batch keeps the rest
    assert sorted(np.concatenate(e0)) == list(range(10)) == sorted(np.concatenate(e1))
    assert not np.array_equal(np.concatenate(e0), np.concatenate(e1))
    assert batches.steps_per_epoch == 3


def test_the_same_seed_gives_the_same_batches():
    a, b = MiniBatches(50, 8, seed=1).take(20), MiniBatches(50, 8, seed=1).take(20)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    c = MiniBatches(50, 8, seed=2).take(20)
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


def test_take_runs_on_into_later_epochs():
    batches = MiniBatches(10, 4, seed=0)
    taken = batches.take(5)
    expected = batches.epoch(0) + batches.epoch(1)[:2]
    assert all(np.array_equal(x, y) for x, y in zip(taken, expected)) and len(taken) == 5


def test_full_batch_is_every_sample_in_order():
    for idx in MiniBatches(7).take(3):
        np.testing.assert_array_equal(idx, np.arange(7))
    unshuffled = MiniBatches(7, 3, shuffle=False).epoch(0)
    np.testing.assert_array_equal(np.concatenate(unshuffled), np.arange(7))


def test_train_steps_once_per_batch_with_the_schedule():
    params = {"W1": np.array([[0.5]]), "b1": np.array([0.1])}
    X, y = np.array([[1.0], [2.0], [3.0], [4.0]]), np.array([[1.0], [0.0], [1.0], [0.0]])
    batches = MiniBatches(4, 2, seed=0).take(4)
    losses = []
    trained = MLP(params, ["sigmoid"], "mse").train(X, y, SGD(0.1), batches, record=(2, 4),
                                                    learning_rates=[0.1, 0.1, 0.01, 0.01], losses=losses)
    by_hand = MLP(params, ["sigmoid"], "mse")
    opt = SGD(0.1)
    by_hand_losses = []
    for k, idx in enumerate(batches, start=1):
        opt.learning_rate = 0.1 if k <= 2 else 0.01
        by_hand_losses.append(by_hand.step(X[idx], y[idx], opt))
    assert sorted(trained) == [2, 4]
    assert losses == by_hand_losses  # each step's loss, before its update
    np.testing.assert_array_equal(trained[4]["W1"], by_hand.params["W1"])


# ----- bad input names the thing at fault --------------------------------------------------------------------

@pytest.mark.parametrize(
    "build,message",
    [
        (lambda: get_optimizer("lbfgs"), "unknown optimizer 'lbfgs'; expected one of"),
        (lambda: get_optimizer("adam", lr=0.1), "unknown hyper-parameter(s) ['lr']"),
        (lambda: Adam(convention="jax"), "convention must be 'torch' or 'keras'. Received: convention='jax'"),
        (lambda: Adam(learning_rate=-1), "Adam: expected a positive learning_rate. Received: learning_rate=-1"),
        (lambda: SGD(0.1, momentum=1.5), "SGD: expected 0.0 <= momentum < 1.0. Received: momentum=1.5"),
        (lambda: SGD(0.1, nesterov=True), "nesterov=True needs a momentum > 0"),
        (lambda: Adam(beta_2=1.0), "expected 0.0 <= beta_2 < 1.0"),
        (lambda: RMSprop(epsilon=-1e-7), "expected 0.0 <= epsilon < inf"),
        (lambda: SGD(0.1, clipnorm=1.0, clipvalue=0.5), "only one of clipvalue, clipnorm and global_clipnorm"),
        (lambda: SGD(0.1, global_clipnorm=0), "expected a positive global_clipnorm. Received: global_clipnorm=0"),
        (lambda: SGD(0.1).update({"W1": np.ones((2, 3))}, {"W1": np.ones((3, 2))}),
         "the gradient of W1 must have the parameter's shape (2, 3). Received: (3, 2)"),
        (lambda: MiniBatches(10, 0), "expected a positive integer batch_size or None (full batch). Received: "
                                     "batch_size=0"),
        (lambda: MiniBatches(0), "expected a positive number of samples"),
        (lambda: Adam(learning_rate="fast"), "Adam: learning_rate must be a number. Received: learning_rate='fast'"),
    ],
)
def test_bad_input_names_the_thing_at_fault(build, message):
    with pytest.raises(ValueError) as info:
        build()
    assert message in str(info.value)


def test_a_missing_gradient_is_named():
    with pytest.raises(KeyError, match="no gradient for parameter 'b1'"):
        SGD(0.1).update({"W1": np.ones(2), "b1": np.ones(2)}, {"W1": np.ones(2)})
