"""Where PyTorch and Keras 3 differ for the same idea, and what nnparity does about it.

One row per convention, as data: ``nnparity show --component NAME`` prints the
rows that concern a component, ``nnparity report`` prints them all. Every row is
proven against the installed frameworks by ``tests/engine/test_conventions_table.py`` (one
proof per ``key``), so the table cannot silently go stale with a new version.

A row's ``components`` name reference components (``relu``, ``bce``, ``sgd``,
``dense``) or whole kinds of them (``activation``, ``loss``, ``optimizer``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Convention:
    key: str  # the proof's name in tests/engine/test_conventions_table.py
    topic: str
    torch: str
    keras: str
    nnparity: str
    components: tuple[str, ...]


TORCH_VS_KERAS: dict[str, Convention] = {
    row.key: row
    for row in (
        Convention(
            key="dense-layout",
            topic="Dense kernel layout",
            torch="nn.Linear(fan_in, units).weight is (units, fan_in); y = x @ weight.T + bias; "
            "its gradient has the same layout",
            keras="Dense(units).kernel is (fan_in, units); y = x @ kernel + bias",
            nnparity="the reference stores (fan_in, units); frameworks/layout.py is the one place that "
            "transposes for torch",
            components=("dense",),
        ),
        Convention(
            key="dense-init",
            topic="Default Dense initialisation",
            torch="weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))",
            keras="kernel GlorotUniform, bias zeros",
            nnparity="neither is used: the reference draws the lesson's weights once, in float64, and both "
            "frameworks load them",
            components=("dense",),
        ),
        Convention(
            key="leaky-relu-slope",
            topic="leaky_relu default slope",
            torch="F.leaky_relu: negative_slope=0.01",
            keras="activations.leaky_relu: negative_slope=0.2 (layers.LeakyReLU: 0.3); "
            "TensorFlow's kernel rounds the slope to float32",
            nnparity="the slope is always passed (0.01); the Keras twin writes ops.where(z > 0, z, slope * z)",
            components=("leaky_relu",),
        ),
        Convention(
            key="relu-kink",
            topic="relu'(0)",
            torch="0",
            keras="0",
            nnparity="0 (ReLU.derivative is z > 0)",
            components=("relu",),
        ),
        Convention(
            key="bce-probabilities",
            topic="BCE of a probability of exactly 0 or 1",
            torch="nn.BCELoss clamps each log at -100 (p = 0, y = 1 gives 100)",
            keras="BinaryCrossentropy() clips p to [1e-7, 1 - 1e-7] (gives 16.118), "
            "so the gradient is 0 outside",
            nnparity="BinaryCrossEntropy(convention='torch' or 'keras') reproduces either",
            components=("bce",),
        ),
        Convention(
            key="keras-logits",
            topic="BCE / CCE right after a sigmoid / softmax",
            torch="BCELoss(sigmoid(z)) works from p: at z = 40, float64 p rounds to 1 and the loss for "
            "y = 0 is clamped to 100",
            keras="the loss silently uses the logits that a Keras sigmoid/softmax attaches to its output: "
            "exact (40 at z = 40), no clipping",
            nnparity="the reference follows each framework (conformance/cases.py): from the logits "
            "(MLP.fused) for Keras on TensorFlow and torch's CrossEntropyLoss, BCELoss's clamp for torch, Keras's "
            "clip for Keras on JAX and torch, whose backends ignore the attached logits (docs/backends.md)",
            components=("bce", "cce", "sigmoid", "softmax"),
        ),
        Convention(
            key="cce-renormalises",
            topic="CCE of probabilities that do not sum to 1",
            torch="NLLLoss(log(p)) uses p as given",
            keras="CategoricalCrossentropy() first divides p by its row sum",
            nnparity="CategoricalCrossEntropy(convention='torch' or 'keras'); after a softmax both agree",
            components=("cce",),
        ),
        Convention(
            key="mse-sum",
            topic="MSE with reduction='sum'",
            torch="sums all N * k squared errors",
            keras="sums the N per-sample means: k times smaller",
            nnparity="the lessons use the mean, where both agree",
            components=("mse",),
        ),
        Convention(
            key="sgd-default-lr",
            topic="SGD default learning rate",
            torch="lr=0.001",
            keras="learning_rate=0.01",
            nnparity="always passed from the lesson",
            components=("sgd",),
        ),
        Convention(
            key="float32-hyperparameters",
            topic="Hyper-parameters in float64",
            torch="used as Python floats",
            keras="on TensorFlow, ops.cast(0.9, 'float64') goes through float32: 0.8999999761581421",
            nnparity="the Keras twin passes np.float64 values",
            components=("optimizer",),
        ),
        Convention(
            key="adam-epsilon",
            topic="Adam epsilon",
            torch="eps=1e-8, added to the bias-corrected sqrt(v_hat): w -= lr * m_hat / (sqrt(v_hat) + eps)",
            keras="epsilon=1e-7, added before the bias correction ('epsilon hat'): "
            "w -= lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (sqrt(v) + epsilon)",
            nnparity="Adam(convention='torch' or 'keras') reproduces either (docs/optimizers.md); the same "
            "epsilon in both gives different weights, so the twins are each checked against their own formula",
            components=("adam",),
        ),
        Convention(
            key="gelu-default",
            topic="GELU: exact or tanh approximation",
            torch="F.gelu(z) and nn.GELU() are exact unless approximate='tanh'",
            keras="keras.ops.gelu(z) defaults to the tanh approximation; keras.activations.gelu(z) is exact; "
            "TensorFlow casts the constants through float32",
            nnparity="reference.activation_conventions.GELU(approximate, convention) computes each "
            "(docs/conventions-activations.md)",
            components=("gelu",),
        ),
        Convention(
            key="selu-at-zero",
            topic="selu'(0)",
            torch="scale * alpha = 1.7581 (the left branch)",
            keras="scale = 1.0507 (the right branch)",
            nnparity="reference.activation_conventions.SELU(convention) (docs/conventions-activations.md)",
            components=("selu",),
        ),
        Convention(
            key="softplus-threshold",
            topic="softplus of a large z",
            torch="F.softplus returns z itself above threshold=20 (derivative 1)",
            keras="log(1 + exp(z)) for every z",
            nnparity="reference.activation_conventions.Softplus(convention) (docs/conventions-activations.md)",
            components=("softplus",),
        ),
        Convention(
            key="nadam-momentum-decay",
            topic="NAdam's momentum schedule",
            torch="NAdam(momentum_decay=4e-3): mu_t = beta_1 (1 - 0.5 * 0.96**(t * momentum_decay))",
            keras="Nadam has no momentum_decay: 0.96**t, torch's momentum_decay=1",
            nnparity="reference.adaptive_optimizers.NAdam(convention); adapters keras_adapters.TorchNAdam and "
            "torch_adapters.KerasNadam; a lesson's momentum_decay is 1.0 (docs/conventions-optimizers.md)",
            components=("nadam",),
        ),
        Convention(
            key="adamax-epsilon",
            topic="Adamax epsilon",
            torch="inside the max: u = max(beta_2 u, |g| + eps); w -= lr / (1 - beta_1**t) * m / u",
            keras="after it: u = max(beta_2 u, |g|); w -= learning_rate * m / ((1 - beta_1**t) (u + epsilon))",
            nnparity="reference.adaptive_optimizers.Adamax(convention); adapters TorchAdamax and KerasAdamax "
            "(docs/conventions-optimizers.md)",
            components=("adamax",),
        ),
        Convention(
            key="rho-name",
            topic="The decay rate of g**2's running mean",
            torch="RMSprop(alpha=...), Adadelta(rho=...)",
            keras="RMSprop(rho=...), Adadelta(rho=...)",
            nnparity="Keras's name; the torch twin maps it per optimizer (frameworks/torch_twin.py, hyper_names)",
            components=("rmsprop", "adadelta"),
        ),
        Convention(
            key="adadelta-defaults",
            topic="Adadelta's defaults",
            torch="lr=1.0, rho=0.9, eps=1e-6",
            keras="learning_rate=0.001, rho=0.95, epsilon=1e-7: the same formula, a thousand times smaller steps",
            nnparity="every hyper-parameter written out (the adadelta setting, a lesson's hyper)",
            components=("adadelta",),
        ),
        Convention(
            key="class-weights",
            topic="Class weights",
            torch="CrossEntropyLoss(weight=w) divides the weighted sum by the sum of the samples' weights",
            keras="fit(class_weight=w) divides it by N",
            nnparity="reference.loss_conventions.weighted_cross_entropy(convention) (docs/conventions-losses.md)",
            components=("cce_logits",),
        ),
        Convention(
            key="training-loop-defaults",
            topic="Batches and schedules of a training loop",
            torch="DataLoader(dataset): batch_size=1, shuffle=False; StepLR is stepped once an epoch; "
            "backward() per micro-batch sums gradients",
            keras="fit(X, y): batch_size=32, shuffle=True; ExponentialDecay is called every step, in float32; "
            "gradient_accumulation_steps averages",
            nnparity="reference.training_conventions (docs/conventions-training.md)",
            components=("optimizer",),
        ),
        Convention(
            key="mse-broadcasting",
            topic="MSE of an (N, 1) prediction against an (N,) target",
            torch="F.mse_loss broadcasts to (N, N), with a UserWarning: every prediction meets every target",
            keras="MeanSquaredError() aligns the ranks first: each prediction meets its own target",
            nnparity="the lessons' targets have the prediction's shape (the reference refuses others); "
            "reference.loss_conventions.mse_of_shapes computes both (docs/conventions-losses.md)",
            components=("mse",),
        ),
        Convention(
            key="amsgrad-epsilon",
            topic="Adam(amsgrad=True)",
            torch="Adam's epsilon after the bias correction, on max(v)",
            keras="epsilon hat, on max(v)",
            nnparity="reference.adaptive_optimizers.AMSGrad(convention); adapters TorchAdam(amsgrad=True) and "
            "KerasAdam(amsgrad=True) (docs/conventions-optimizers.md)",
            components=("adam", "amsgrad"),
        ),
        # ---- rows that nnparity.compare_models names when a torch model and a Keras model disagree
        Convention(
            key="batchnorm-momentum",
            topic="BatchNorm momentum",
            torch="BatchNorm1d(momentum=0.1): the new batch's weight, r = (1 - m) r + m * batch",
            keras="BatchNormalization(momentum=0.99): the old value's weight, r = m r + (1 - m) * batch",
            nnparity="the same update needs Keras momentum = 1 - torch momentum (0.9 for torch's 0.1); "
            "compare_models names the setting and tries it",
            components=("batchnorm",),
        ),
        Convention(
            key="batchnorm-running-variance",
            topic="BatchNorm running variance",
            torch="running_var takes the batch's unbiased variance (x N / (N - 1)); no option",
            keras="moving_variance takes the biased one; no option",
            nnparity="no setting makes them agree: the reference takes running_variance='unbiased' or 'biased'; "
            "compare_models makes torch's biased to check that nothing else differs",
            components=("batchnorm",),
        ),
        Convention(
            key="norm-epsilon",
            topic="BatchNorm / LayerNorm epsilon",
            torch="BatchNorm1d and LayerNorm: eps=1e-5",
            keras="BatchNormalization and LayerNormalization: epsilon=1e-3",
            nnparity="the lessons pass it (spiral-batchnorm, spiral-layernorm: 1e-5 to both); "
            "reference.layernorm.LayerNorm(units, epsilon, convention) "
            "(docs/conventions-layers.md); compare_models names the setting and tries it",
            components=("batchnorm", "layernorm"),
        ),
        Convention(
            key="softmax-cross-entropy",
            topic="Softmax before a cross-entropy",
            torch="nn.CrossEntropyLoss takes logits: given softmax probabilities, it applies log_softmax again "
            "(a softmax applied twice: no error, another loss)",
            keras="CategoricalCrossentropy() takes the softmax's output (from_logits=False)",
            nnparity="torch twins end with the logits for CrossEntropyLoss; the reference names both "
            "(CategoricalCrossEntropyWithLogits, CategoricalCrossEntropy: docs/conventions-losses.md); compare_models "
            "detects a torch model ending in nn.Softmax before CrossEntropyLoss and tries it without",
            components=("softmax", "cce", "cce_logits"),
        ),
        Convention(
            key="gradient-clipping",
            topic="Gradient clipping",
            torch="no optimizer option: clip_grad_norm_(params, c) in the loop, over all the gradients together",
            keras="clipnorm=c per variable; global_clipnorm=c over all, as torch's clip_grad_norm_ (without its 1e-6)",
            nnparity="reference.clip_gradients(convention, clipnorm or global_clipnorm) (docs/conventions-training.md); "
            "compare_models names a Keras optimizer that clips",
            components=("optimizer",),
        ),
        Convention(
            key="weight-decay",
            topic="Optimizer weight_decay",
            torch="SGD, Adam, RMSprop: weight_decay is added to the gradient (it goes through Adam's moments); "
            "AdamW decouples it",
            keras="every optimizer's weight_decay is decoupled: p -= learning_rate * weight_decay * p, "
            "the gradient left alone",
            nnparity="the lessons use Keras's kernel_regularizer (an L2 loss term), the same in both; "
            "compare_models names a weight decay that differs",
            components=("optimizer",),
        ),
        Convention(
            key="rmsprop-epsilon",
            topic="RMSprop epsilon",
            torch="eps=1e-8 (alpha=0.99, lr=0.01), added to the root: w -= lr g / (sqrt(v) + eps)",
            keras="epsilon=1e-7 (rho=0.9, learning_rate=0.001), inside it: w -= learning_rate g / sqrt(v + epsilon)",
            nnparity="reference.RMSprop(convention); adapters torch_adapters.KerasRMSprop and keras_adapters.TorchRMSprop; "
            "compare_models makes torch follow KerasRMSprop (docs/conventions-optimizers.md)",
            components=("rmsprop",),
        ),
        Convention(
            key="adagrad-epsilon",
            topic="Adagrad epsilon",
            torch="eps=1e-10, initial_accumulator_value=0 (lr=0.01), added to the root: w -= lr g / (sqrt(s) + eps)",
            keras="epsilon=1e-7, initial_accumulator_value=0.1 (learning_rate=0.001), inside it: "
            "w -= learning_rate g / sqrt(s + epsilon)",
            nnparity="reference.Adagrad(convention); adapters torch_adapters.KerasAdagrad and keras_adapters.TorchAdagrad; "
            "compare_models makes torch follow KerasAdagrad (docs/conventions-optimizers.md)",
            components=("adagrad",),
        ),
        Convention(
            key="nadam-float32-decay",
            topic="Nadam's 0.96 in float64",
            torch="NAdam(momentum_decay=1.0): mu_t = beta_1 (1 - 0.5 * 0.96**t) with the exact 0.96; the running "
            "product of the mu_t is a float32 scalar, even for float64 parameters",
            keras="Nadam on TensorFlow: mu_t takes 0.96 cast through float32 (0.9599999785423279), the running "
            "product the exact 0.96, in the variables' dtype",
            nnparity="no setting makes them agree (inside float32's tolerance, outside float64's); adapters "
            "torch_adapters.KerasNadam and keras_adapters.TorchNAdam; compare_models makes torch follow KerasNadam",
            components=("nadam",),
        ),
        Convention(
            key="elu-alpha",
            topic="ELU's alpha",
            torch="nn.ELU(alpha=1.0), F.elu(z, alpha): any alpha on the module",
            keras="activation='elu' is alpha=1.0, always; another alpha takes layers.ELU(alpha) or "
            "activations.elu(x, alpha)",
            nnparity="compare_models names an alpha its Keras pair does not compute and tries torch's module at Keras's",
            components=("elu",),
        ),
        Convention(
            key="softplus-beta",
            topic="softplus's beta",
            torch="nn.Softplus(beta=1.0): log(1 + exp(beta z)) / beta",
            keras="activations.softplus(x) has no beta: beta = 1 only",
            nnparity="compare_models names a torch beta other than 1 and tries beta=1",
            components=("softplus",),
        ),
        Convention(
            key="hardtanh-range",
            topic="hardtanh's range",
            torch="nn.Hardtanh(min_val=-1.0, max_val=1.0): any range",
            keras="activations.hard_tanh(x): -1 to 1 only",
            nnparity="compare_models names a torch range other than -1 to 1 and tries Keras's",
            components=("hardtanh",),
        ),
        Convention(
            key="hardtanh-at-edges",
            topic="hardtanh' at exactly its bounds",
            torch="0 at z = min_val and z = max_val",
            keras="1 there (TensorFlow's gradient of hard_tanh)",
            nnparity="compare_models counts the inputs at the bounds and makes torch follow with torch.clamp, "
            "whose gradient passes there",
            components=("hardtanh",),
        ),
    )
}


def conventions_for(name: str, kind: str | None = None) -> list[Convention]:
    """The rows that concern the component ``name`` (or its whole ``kind``)."""
    return [row for row in TORCH_VS_KERAS.values() if name in row.components or (kind and kind in row.components)]
