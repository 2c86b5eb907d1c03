"""Bad input: where torch or Keras refuse an input, the reference refuses it too, and says what is wrong.

Each row is one mistake a learner makes (a shape that does not fit, an unknown
name, a hyper-parameter out of its range), the reference's refusal, the words its
message must contain (the thing at fault, and what was received), and the
frameworks that refuse the same mistake, each with its own call. So:

- ``test_the_reference_refuses``: the reference raises the error, naming the thing;
- ``test_the_framework_refuses_too``: the framework raises as well, for the same
  reason (words of its message, ``FRAMEWORK_SAYS``): if a release started accepting
  the input, the reference's refusal would no longer be a framework's rule.

A row with no framework is the reference's own rule (a comment says what the
frameworks do instead).
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.tests.support import needs
from reference import (
    MLP,
    SGD,
    Adagrad,
    Adam,
    MiniBatches,
    RMSprop,
    get_activation,
    get_initializer,
    get_loss,
    get_optimizer,
)
from reference.batchnorm import BatchNorm
from reference.batchnorm import get_convention as get_batchnorm_convention
from reference.clipping import clip_gradients
from reference.dropout import Dropout
from reference.losses import LOSSES
from reference.regularizers import L2
from reference.training import batches, fit

from .mistakes import (
    BN_3,
    DENSE_2_3_1,
    FRAMEWORK_SAYS,
    TORCH_BN,
    BadInput,
    backward_after_forward,
    batchnorm,
    dropout_with_mask,
    keras_dense_2_3_on,
    keras_dropout,
    keras_get,
    keras_l2,
    keras_optimizer,
    keras_set_weights,
    mlp_2_3_1,
    ones,
    regularized,
    torch_batchnorm_3_on,
    torch_batchnorm_on,
    torch_batchnorm_weights,
    torch_bn_mlp_load,
    torch_chain,
    torch_dropout,
    torch_init,
    torch_linear_2_3_on,
    torch_linear_2_3_on_data,
    torch_load,
    torch_loader,
    torch_loss,
    torch_optimizer,
    torch_sampler,
)

BAD_INPUTS = {b.name: b for b in (
    BadInput("x-with-the-wrong-width", lambda: mlp_2_3_1().forward(ones(5, 3)), ValueError,
             ("X must have shape (N, 2)", "W1 of shape (2, 3)", "X.shape=(5, 3)"),
             {"torch": lambda: torch_linear_2_3_on((5, 3)), "keras": lambda: keras_dense_2_3_on((5, 3))}),
    BadInput("x-with-three-axes", lambda: mlp_2_3_1().forward(ones(5, 2, 1)), ValueError,
             ("X must have shape (N, 2)", "X.shape=(5, 2, 1)")),  # torch and Keras map a Dense over leading axes
    BadInput("layers-that-do-not-chain",
             lambda: MLP({"W1": ones(2, 3), "W2": ones(4, 1)}, ["relu", "linear"]), ValueError,
             ("W2 has shape (4, 1)", "W1 gives 3 units", "W2.shape[0] == 3"),
             {"torch": lambda: torch_chain(3, 4)}),
    BadInput("bias-of-the-wrong-size", lambda: MLP({"W1": ones(2, 3), "b1": ones(4)}, ["relu"]), ValueError,
             ("bias must have shape (3,)", "kernel (2, 3)", "bias.shape=(4,)"),
             {"torch": lambda: torch_load({"weight": (3, 2), "bias": (4,)}),
              "keras": lambda: keras_set_weights([(2, 3), (4,)])}),
    BadInput("kernel-not-2-d", lambda: MLP({"W1": ones(2, 3, 1)}, ["relu"]), ValueError,
             ("kernel must be 2-D", "kernel.shape=(2, 3, 1)"),
             {"torch": lambda: torch_load({"weight": (3, 2, 1), "bias": (3,)}),
              "keras": lambda: keras_set_weights([(2, 3, 1), (3,)])}),
    BadInput("set-params-of-the-wrong-shape", lambda: mlp_2_3_1().set_params({"W1": ones(3, 2)}), ValueError,
             ("W1 must have shape (2, 3)", "Received: (3, 2)"),
             {"torch": lambda: torch_load({"weight": (2, 2), "bias": (3,)}),
              "keras": lambda: keras_set_weights([(3, 2), (3,)])}),
    BadInput("set-params-of-an-unknown-name", lambda: mlp_2_3_1().set_params({"W9": ones(2, 3)}), KeyError,
             ("no parameter 'W9'", "['W1', 'W2', 'b1', 'b2']"),
             {"torch": lambda: torch_load({"weight": (3, 2), "bias": (3,), "W9": (3, 2)})}),
    BadInput("unknown-activation", lambda: get_activation("swish2"), ValueError,
             ("unknown activation 'swish2'", "'leaky_relu'"), {"keras": lambda: keras_get("activations", "swish2")}),
    BadInput("unknown-loss", lambda: get_loss("hinge2"), ValueError,
             ("unknown loss 'hinge2'", "'bce_logits'"), {"keras": lambda: keras_get("losses", "hinge2")}),
    BadInput("unknown-initializer", lambda: get_initializer("lecun2"), ValueError,
             ("unknown initializer 'lecun2'", "'he_normal'"), {"keras": lambda: keras_get("initializers", "lecun2")}),
    BadInput("unknown-optimizer", lambda: get_optimizer("adamax2"), ValueError,
             ("unknown optimizer 'adamax2'", "'rmsprop'"), {"keras": lambda: keras_get("optimizers", "adamax2")}),
    BadInput("normal-with-a-negative-scale", lambda: get_initializer("normal", scale=-1.0), ValueError,
             ("normal: expected a positive scale", "scale=-1.0"),
             {"torch": lambda: torch_init("normal_", (3, 2), std=-1.0)}),
    BadInput("uniform-with-low-above-high", lambda: get_initializer("uniform", low=1.0, high=0.0), ValueError,
             ("uniform: expected low < high", "low=1.0, high=0.0"),
             {"torch": lambda: torch_init("uniform_", (3, 2), a=1.0, b=0.0)}),
    BadInput("fans-of-a-1-d-shape", lambda: get_initializer("glorot_uniform")((4,), np.random.default_rng(0)),
             ValueError, ("glorot_uniform: fan_in and fan_out must be given", "shape=(4,)"),
             {"torch": lambda: torch_init("xavier_uniform_", (4,))}),
    BadInput("negative-learning-rate", lambda: SGD(learning_rate=-0.1), ValueError,
             ("SGD: expected a positive learning_rate", "learning_rate=-0.1"),
             {"torch": lambda: torch_optimizer("SGD", lr=-0.1)}),
    BadInput("momentum-out-of-range", lambda: SGD(0.1, momentum=-0.5), ValueError,
             ("SGD: expected 0.0 <= momentum < 1.0", "momentum=-0.5"),
             {"torch": lambda: torch_optimizer("SGD", lr=0.1, momentum=-0.5)}),
    BadInput("nesterov-without-momentum", lambda: SGD(0.1, nesterov=True), ValueError,
             ("SGD: nesterov=True needs a momentum > 0",),
             {"torch": lambda: torch_optimizer("SGD", lr=0.1, nesterov=True)}),
    BadInput("negative-weight-decay", lambda: Adam(weight_decay=-0.01), ValueError,
             ("Adam: expected weight_decay >= 0", "weight_decay=-0.01"),
             {"torch": lambda: torch_optimizer("Adam", weight_decay=-0.01)}),
    BadInput("adam-beta-1-of-1", lambda: Adam(beta_1=1.0), ValueError,
             ("Adam: expected 0.0 <= beta_1 < 1.0", "beta_1=1.0"),
             {"torch": lambda: torch_optimizer("Adam", betas=(1.0, 0.999))}),
    BadInput("adam-beta-2-of-1", lambda: Adam(beta_2=1.0), ValueError,
             ("Adam: expected 0.0 <= beta_2 < 1.0", "beta_2=1.0"),
             {"torch": lambda: torch_optimizer("Adam", betas=(0.9, 1.0))}),
    BadInput("adam-negative-epsilon", lambda: Adam(epsilon=-1e-8), ValueError,
             ("Adam: expected 0.0 <= epsilon < inf", "epsilon=-1e-08"),
             {"torch": lambda: torch_optimizer("Adam", eps=-1e-8)}),
    BadInput("rmsprop-rho-below-0", lambda: RMSprop(rho=-0.1), ValueError,
             ("RMSprop: expected 0.0 <= rho < 1.0", "rho=-0.1"),
             {"torch": lambda: torch_optimizer("RMSprop", alpha=-0.1)}),
    BadInput("rmsprop-negative-momentum", lambda: RMSprop(momentum=-0.1), ValueError,
             ("RMSprop: expected 0.0 <= momentum < 1.0", "momentum=-0.1"),
             {"torch": lambda: torch_optimizer("RMSprop", momentum=-0.1)}),
    BadInput("rmsprop-negative-epsilon", lambda: RMSprop(epsilon=-1e-8), ValueError,
             ("RMSprop: expected 0.0 <= epsilon < inf", "epsilon=-1e-08"),
             {"torch": lambda: torch_optimizer("RMSprop", eps=-1e-8)}),
    BadInput("adagrad-negative-accumulator", lambda: Adagrad(initial_accumulator_value=-0.1), ValueError,
             ("Adagrad: expected 0.0 <= initial_accumulator_value < inf", "initial_accumulator_value=-0.1"),
             {"torch": lambda: torch_optimizer("Adagrad", initial_accumulator_value=-0.1)}),
    BadInput("adagrad-negative-epsilon", lambda: Adagrad(epsilon=-1e-8), ValueError,
             ("Adagrad: expected 0.0 <= epsilon < inf", "epsilon=-1e-08"),
             {"torch": lambda: torch_optimizer("Adagrad", eps=-1e-8)}),
    BadInput("two-clipping-options", lambda: SGD(0.1, clipnorm=1.0, clipvalue=0.5), ValueError,
             ("SGD: only one of clipvalue, clipnorm and global_clipnorm can be set", "clipvalue=0.5, clipnorm=1.0"),
             {"keras": lambda: keras_optimizer("SGD", clipnorm=1.0, clipvalue=0.5)}),
    BadInput("dropout-rate-above-1", lambda: Dropout(1.5), ValueError,
             ("Dropout: expected 0 <= rate < 1", "rate=1.5"),
             {"torch": lambda: torch_dropout(1.5), "keras": lambda: keras_dropout(1.5)}),
    BadInput("dropout-rate-below-0", lambda: Dropout(-0.1), ValueError,
             ("Dropout: expected 0 <= rate < 1", "rate=-0.1"),
             {"torch": lambda: torch_dropout(-0.1), "keras": lambda: keras_dropout(-0.1)}),
    BadInput("batchnorm-training-on-one-sample",
             lambda: BatchNorm(ones(3), ones(3), ones(3), ones(3), momentum=0.9, epsilon=1e-5,
                               running_variance="unbiased").forward(ones(1, 3)), ValueError,
             ("BatchNorm: training needs at least 2 samples per batch", "N=1"),
             {"torch": lambda: torch_batchnorm_on(1)}),
    BadInput("negative-l2-factor", lambda: L2(-0.01), ValueError,
             ("L2: expected a non-negative factor", "l2=-0.01"), {"keras": lambda: keras_l2(-0.01)}),
    BadInput("batchnorm-parameters-missing", lambda: regularized(DENSE_2_3_1, batchnorm=TORCH_BN), ValueError,
             ("RegularizedMLP: parameter names do not match the layers; missing ['beta1', 'gamma1', 'moving_mean1', "
              "'moving_variance1'] (BatchNorm needs gamma, beta, moving_mean and moving_variance for every hidden layer)",),
             {"torch": lambda: torch_bn_mlp_load(drop=("1.bias", "1.running_mean"))}),
    BadInput("batchnorm-parameters-without-batchnorm", lambda: regularized({**DENSE_2_3_1, **BN_3}), ValueError,
             ("parameter names do not match the layers; unexpected ['beta1', 'gamma1', 'moving_mean1', "
              "'moving_variance1'] (no batchnorm: only W1, b1, ... are expected)",),
             {"torch": lambda: torch_load({"weight": (3, 2), "bias": (3,), "gamma1": (3,)})}),
    BadInput("batchnorm-gamma-of-the-wrong-size",
             lambda: regularized({**DENSE_2_3_1, **BN_3, "gamma1": ones(4)}, batchnorm=TORCH_BN), ValueError,
             ("gamma1 must have shape (3,)", "W1 (2, 3)", "Received: (4,)"),
             {"torch": lambda: torch_bn_mlp_load(gamma_shape=(4,))}),
    BadInput("batchnorm-not-a-convention", lambda: regularized({**DENSE_2_3_1, **BN_3}, batchnorm="torch"), TypeError,
             ("batchnorm must be a BatchNormConvention", "batchnorm='torch'")),
    BadInput("batchnorm-beta-of-the-wrong-shape", lambda: batchnorm(beta=ones(4)), ValueError,
             ("BatchNorm: beta must have gamma's shape (3,)", "beta.shape=(4,)"),
             {"torch": lambda: torch_batchnorm_weights({"bias": (4,)})}),
    BadInput("batchnorm-moving-mean-of-the-wrong-shape", lambda: batchnorm(gamma=ones(3, 1), beta=ones(3, 1)),
             ValueError, ("BatchNorm: moving_mean must have gamma's shape (3, 1)", "moving_mean.shape=(3,)"),
             {"torch": lambda: torch_batchnorm_weights({"running_mean": (4,)})}),
    BadInput("batchnorm-moving-variance-of-the-wrong-shape",
             lambda: BatchNorm(ones(3), ones(3), ones(3), ones(4), momentum=0.9, epsilon=1e-5, running_variance="biased"),
             ValueError, ("BatchNorm: moving_variance must have gamma's shape (3,)", "moving_variance.shape=(4,)"),
             {"torch": lambda: torch_batchnorm_weights({"running_var": (4,)})}),
    BadInput("batchnorm-gamma-2-d", lambda: BatchNorm(ones(3, 1), ones(3, 1), ones(3, 1), ones(3, 1), momentum=0.9,
                                                      epsilon=1e-5, running_variance="biased"), ValueError,
             ("BatchNorm: gamma must be 1-D (units,)", "gamma.shape=(3, 1)"),
             {"torch": lambda: torch_batchnorm_weights({"weight": (3, 1), "bias": (3, 1)})}),
    BadInput("batchnorm-momentum-above-1", lambda: batchnorm(momentum=1.5), ValueError,
             ("BatchNorm: expected 0 <= momentum <= 1", "momentum=1.5")),  # torch and Keras take any momentum
    BadInput("batchnorm-epsilon-0", lambda: batchnorm(epsilon=0.0), ValueError,
             ("BatchNorm: expected a positive epsilon", "epsilon=0.0")),  # 0 divides by 0 on a constant unit
    BadInput("batchnorm-unknown-running-variance", lambda: batchnorm(running_variance="sample"), ValueError,
             ("running_variance must be one of ('unbiased', 'biased')", "running_variance='sample'")),
    BadInput("batchnorm-unknown-convention", lambda: get_batchnorm_convention("tensorflow"), ValueError,
             ("unknown BatchNorm convention 'tensorflow'", "expected one of ['keras', 'torch']")),
    BadInput("batchnorm-x-of-the-wrong-width", lambda: batchnorm().forward(ones(5, 4)), ValueError,
             ("BatchNorm: x must have shape (N, 3)", "x.shape=(5, 4)"),
             {"torch": lambda: torch_batchnorm_3_on((5, 4))}),
    BadInput("batchnorm-backward-before-forward", lambda: batchnorm().backward(ones(5, 3)), RuntimeError,
             ("BatchNorm.backward called before forward",)),
    BadInput("mlp-backward-before-forward", lambda: mlp_2_3_1().backward(ones(5, 1)), RuntimeError,
             ("MLP.backward called before forward",)),
    BadInput("dense-backward-before-forward", lambda: mlp_2_3_1().layers[0].backward(ones(5, 3)), RuntimeError,
             ("Dense.backward called before forward",)),
    BadInput("dropout-mask-not-boolean", lambda: Dropout(0.5).set_mask(ones(5, 3)), TypeError,
             ("Dropout.set_mask: expected a boolean keep-mask", "dtype=float64")),
    BadInput("dropout-mask-of-the-wrong-shape", lambda: dropout_with_mask((5, 4)).forward(ones(5, 3)), ValueError,
             ("the keep-mask has shape (5, 4)", "activations have shape (5, 3)")),
    # ----- more of the reference's own refusals: each names the call at fault and what it received
    BadInput("fit-with-x-and-y-of-different-rows", lambda: fit(mlp_2_3_1(), ones(5, 2), ones(4, 1), SGD(0.1), 1),
             ValueError, ("fit: X and y must have the same number of rows", "X.shape=(5, 2), y.shape=(4, 1)")),
    BadInput("fit-batches-of-size-0", lambda: list(batches(ones(5, 2), ones(5, 1), 0)), ValueError,
             ("batches: expected a positive integer batch_size or None", "batch_size=0"),
             {"torch": lambda: torch_loader(0)}),
    BadInput("parameters-with-a-gap", lambda: MLP({"W1": ones(2, 3), "b1": ones(3), "W3": ones(3, 1)}, ["relu"]),
             ValueError, ("MLP: parameters must be named W1, b1, ..., W2, b2 (biases optional)",
                          "Received: ['W1', 'W3', 'b1']")),
    BadInput("fewer-activations-than-layers", lambda: MLP(DENSE_2_3_1, ["relu"]), ValueError,
             ("MLP: 2 layers need 2 activations. Received: 1",)),
    BadInput("y-of-the-wrong-shape", lambda: mlp_2_3_1().loss_value(ones(5, 2), ones(5, 2)), ValueError,
             ("MLP: y must have the output's shape (5, 1) (one-hot for softmax). Received: y.shape=(5, 2)",)),
    # NumPy would broadcast an (N, 1) prediction against an (N,) target into (N, N): a wrong loss, silently.
    BadInput("loss-target-of-another-shape", lambda: get_loss("bce").forward(np.full((4, 1), 0.5), ones(4)),
             ValueError, ("BinaryCrossEntropy: y_pred and y must have the same shape (N, k)",
                          "y_pred.shape=(4, 1), y.shape=(4,)"),
             {"torch": lambda: torch_loss("BCELoss", (4, 1), (4,))}),
    # torch's MSELoss only warns ("will likely lead to incorrect results due to broadcasting"); Keras squeezes
    # or expands y to y_pred's rank and computes: the reference refuses, as torch's BCELoss does.
    BadInput("mse-target-of-another-shape", lambda: get_loss("mse").backward(np.zeros((4, 1)), ones(4)),
             ValueError, ("MeanSquaredError: y_pred and y must have the same shape (N, k)",
                          "y_pred.shape=(4, 1), y.shape=(4,)")),
    BadInput("logits-loss-target-of-another-shape",
             lambda: get_loss("cce").from_logits().forward(np.zeros((4, 3)), ones(4, 1)), ValueError,
             ("CategoricalCrossEntropyWithLogits: z and y must have the same shape (N, k)",
              "z.shape=(4, 3), y.shape=(4, 1)")),
    BadInput("x-that-is-not-numbers", lambda: mlp_2_3_1().forward([["a", "b"]]), ValueError,
             ("MLP.forward: X must hold numbers (float64)", "could not convert string to float: 'a'"),
             {"torch": lambda: torch_linear_2_3_on_data([["a", "b"]])}),
    BadInput("x-of-ragged-rows", lambda: mlp_2_3_1().forward([[1.0, 2.0], [3.0]]), ValueError,
             ("MLP.forward: X must hold numbers (float64)", "inhomogeneous shape"),
             {"torch": lambda: torch_linear_2_3_on_data([[1.0, 2.0], [3.0]])}),
    BadInput("x-that-is-not-numbers-in-float32",
             lambda: MLP({"W1": ones(2, 3), "W2": ones(3, 1)}, ["relu", "linear"], dtype="float32").forward([["a", 1]]),
             ValueError, ("MLP.forward: X must hold numbers (float32)", "could not convert string to float: 'a'")),
    BadInput("batchnorm-parameter-that-is-not-numbers",
             lambda: regularized({**DENSE_2_3_1, **BN_3, "gamma1": ["a", "b", "c"]}, batchnorm=TORCH_BN), ValueError,
             ("RegularizedMLP: gamma1 must hold numbers (float64)", "could not convert string to float: 'a'")),
    BadInput("y-that-is-not-numbers", lambda: mlp_2_3_1().loss_value(ones(2, 2), [["yes"], ["no"]]), ValueError,
             ("MLP: y must hold numbers (float64)", "could not convert string to float")),
    BadInput("parameter-that-is-not-numbers",
             lambda: MLP({"W1": ones(2, 3), "b1": ["a", "b", "c"], "W2": ones(3, 1)}, ["relu", "linear"]),
             ValueError, ("MLP: b1 must hold numbers (float64)", "could not convert string to float: 'a'")),
    BadInput("set-params-that-are-not-numbers", lambda: mlp_2_3_1().set_params({"b1": ["0.5", "1", "one"]}),
             ValueError, ("MLP.set_params: b1 must hold numbers (float64)", "could not convert string to float: 'one'")),
    BadInput("loss-of-an-empty-batch", lambda: mlp_2_3_1().loss_value(ones(0, 2), ones(0, 1)), ValueError,
             ("MLP.loss_value: the batch is empty (y.shape=(0, 1)): mse is a mean over the batch, undefined for "
              "0 samples (torch gives nan, Keras an empty array)",)),
    BadInput("backward-of-an-empty-batch", lambda: backward_after_forward(ones(0, 2), ones(0, 1)), ValueError,
             ("MLP.backward: the batch is empty (y.shape=(0, 1)): mse is a mean over the batch",)),
    BadInput("optimizer-of-an-unknown-convention", lambda: SGD(0.1, convention="jax"), ValueError,
             ("SGD: convention must be 'torch' or 'keras'. Received: convention='jax'",)),
    BadInput("learning-rate-not-a-number", lambda: SGD(learning_rate="0.1"), ValueError,
             ("SGD: learning_rate must be a number. Received: learning_rate='0.1'",)),
    BadInput("learning-rate-0", lambda: SGD(learning_rate=0.0), ValueError,  # torch and Keras take 0: nothing moves
             ("SGD: expected a positive learning_rate", "learning_rate=0.0")),
    BadInput("update-without-a-gradient", lambda: SGD(0.1).update({"W1": ones(2, 2)}, {}), KeyError,
             ("SGD.update: no gradient for parameter 'W1'; got gradients for []",)),
    BadInput("update-with-a-gradient-of-the-wrong-shape",
             lambda: SGD(0.1).update({"W1": ones(2, 2)}, {"W1": ones(3)}), ValueError,
             ("SGD.update: the gradient of W1 must have the parameter's shape (2, 2). Received: (3,)",)),
    BadInput("optimizer-with-torch-s-name-for-a-hyper-parameter", lambda: get_optimizer("adam", lr=0.1), ValueError,
             ("optimizer 'adam': unknown hyper-parameter(s) ['lr']", "expected some of ['beta_1', 'beta_2', "
              "'clipnorm', 'clipvalue', 'epsilon', 'global_clipnorm', 'learning_rate', 'weight_decay']"),
             {"keras": lambda: keras_optimizer("Adam", lr=0.1)}),
    BadInput("clipping-of-an-unknown-convention", lambda: clip_gradients({"W": ones(2)}, convention="jax"),
             ValueError, ("clip_gradients: convention must be 'torch' or 'keras'. Received: convention='jax'",)),
    BadInput("clipnorm-0", lambda: clip_gradients({"W": ones(2)}, convention="torch", clipnorm=0.0), ValueError,
             ("clip_gradients: expected a positive clipnorm. Received: clipnorm=0.0",)),
    BadInput("initializer-with-keras-s-argument-name", lambda: get_initializer("normal", stddev=0.1), ValueError,
             ("initializer 'normal': ", "unexpected keyword argument 'stddev'")),
    BadInput("normal-with-scale-0", lambda: get_initializer("normal", scale=0.0), ValueError,
             ("normal: expected a positive scale. Received: scale=0.0",)),  # torch and Keras draw zeros
    BadInput("uniform-with-low-equal-to-high", lambda: get_initializer("uniform", low=0.5, high=0.5), ValueError,
             ("uniform: expected low < high. Received: low=0.5, high=0.5",)),  # torch fills 0.5
    BadInput("dropout-rate-1", lambda: Dropout(1.0), ValueError,  # torch and Keras drop everything (scale 1/0)
             ("Dropout: expected 0 <= rate < 1. Received: rate=1.0",)),
    BadInput("dropout-masks-of-unknown-layers", lambda: regularized(DENSE_2_3_1, dropout=0.5).set_dropout_masks(
             {"dropout9": np.ones((5, 3), dtype=bool)}), ValueError,
             ("RegularizedMLP.set_dropout_masks: expected masks ['dropout1']. Received: ['dropout9']",)),
    BadInput("regularized-backward-before-forward", lambda: regularized(DENSE_2_3_1, dropout=0.5).backward(ones(5, 1)),
             RuntimeError, ("RegularizedMLP.backward called before forward",)),
    BadInput("no-samples", lambda: MiniBatches(0, 2), ValueError,
             ("MiniBatches: expected a positive number of samples", "n_samples=0"),
             {"torch": lambda: torch_sampler(0)}),
    BadInput("negative-steps", lambda: MiniBatches(4, 2).take(-1), ValueError,
             ("MiniBatches.take: expected a number of steps >= 0", "steps=-1")),
    BadInput("batch-size-0", lambda: MiniBatches(4, 0), ValueError,
             ("MiniBatches: expected a positive integer batch_size", "batch_size=0"),
             {"torch": lambda: torch_loader(0)}),
)}


# How a message begins where its first words (``says[0]``) are not its beginning: the name of
# the function or class that refuses, so a learner knows which call was wrong.
STARTS = {
    "x-with-the-wrong-width": "MLP.forward: ", "x-with-three-axes": "MLP.forward: ",
    "layers-that-do-not-chain": "MLP: ", "bias-of-the-wrong-size": "Dense: ", "kernel-not-2-d": "Dense: ",
    "set-params-of-the-wrong-shape": "MLP.set_params: ", "set-params-of-an-unknown-name": "MLP.set_params: ",
    "batchnorm-parameters-without-batchnorm": "RegularizedMLP: ", "batchnorm-gamma-of-the-wrong-size": "RegularizedMLP: ",
    "batchnorm-not-a-convention": "RegularizedMLP: ", "batchnorm-unknown-running-variance": "BatchNorm: ",
    "dropout-mask-of-the-wrong-shape": "Dropout: ",
}


@pytest.mark.parametrize("bad", list(BAD_INPUTS))
def test_the_reference_refuses(bad):
    row = BAD_INPUTS[bad]
    with pytest.raises(row.error) as info:
        row.reference()
    message = info.value.args[0] if isinstance(info.value, KeyError) else str(info.value)  # KeyError's str quotes
    missing = [words for words in row.says if words not in message]
    assert not missing, f"{bad}: the message does not say {missing}: {message!r}"
    starts = STARTS.get(bad, row.says[0])
    assert message.startswith(starts), f"{bad}: the message should begin with {starts!r}: {message!r}"


# Every loss, on probabilities and on logits (``from_logits()`` gives the ``*_logits`` classes), in both
# directions: an (N, 1) prediction against an (N,) target would broadcast to (N, N). The message names the
# loss's class and what it calls its prediction.
@pytest.mark.parametrize("method", ["forward", "backward"])
@pytest.mark.parametrize("name", list(LOSSES))
def test_every_loss_refuses_a_target_of_another_shape(name, method):
    loss = get_loss(name)
    pred = "z" if name.endswith("_logits") else "y_pred"
    with pytest.raises(ValueError) as info:
        getattr(loss, method)(np.full((4, 1), 0.5), ones(4))
    assert str(info.value) == (f"{type(loss).__name__}: {pred} and y must have the same shape (N, k). "
                               f"Received: {pred}.shape=(4, 1), y.shape=(4,)")


@pytest.mark.parametrize("bad,framework", [(bad, fw) for bad, row in BAD_INPUTS.items() for fw in row.refused_by])
def test_the_framework_refuses_too(bad, framework):
    needs(framework)
    with pytest.raises(Exception) as info:
        BAD_INPUTS[bad].refused_by[framework]()
    assert FRAMEWORK_SAYS[(bad, framework)] in str(info.value), f"{framework} now refuses {bad} for another reason"


def test_every_framework_refusal_says_why():
    rows = {(bad, fw) for bad, row in BAD_INPUTS.items() for fw in row.refused_by}
    assert rows == set(FRAMEWORK_SAYS)
