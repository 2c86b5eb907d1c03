"""nnparity's from-scratch NumPy reference: one concept family per file.

- ``activations.py``: sigmoid, tanh, relu, leaky_relu, softmax, linear, step (forward beside derivative)
- ``losses.py``: MSE, half sum of squares, binary and categorical cross-entropy (probabilities and logits)
- ``initializers.py``: zeros, normal, uniform, Glorot/Xavier, He/Kaiming, torch's Linear default
- ``dense.py``: the Dense layer, z = X @ W + b
- ``optimizers.py``: SGD (momentum, Nesterov), Adam, AdamW, RMSprop, Adagrad, each under torch's or Keras's convention
- ``activation_conventions.py``: GELU (exact, tanh), SELU, softplus, as torch or Keras computes them
- ``training_conventions.py``: Keras's float32 ExponentialDecay, torch's StepLR, gradient accumulation, default batches
- ``loss_conventions.py``: MSE of shapes (N, 1) against (N,), class weights, as torch or Keras computes them
- ``layernorm.py``: LayerNorm (each row over its features), torch's or Keras's default epsilon
- ``adaptive_optimizers.py``: NAdam, Adamax, AMSGrad, Adadelta, under either convention
- ``optimizer_registry.py``: ``OPTIMIZERS`` (all nine by name) and ``get_optimizer``
- ``clipping.py``: gradient clipping by value, by norm per tensor, by global norm
- ``batches.py``: the mini-batches every training loop visits, shared by all three
- ``mlp.py``: the MLP that chains them
- ``dropout.py``, ``batchnorm.py``, ``regularizers.py``: Dropout, BatchNorm and the L2 penalty
- ``regularized_mlp.py``: the MLP with those three, each optional, or a LayerNorm in place of BatchNorm
- ``training.py``: ``fit``, epochs of mini-batches (in order) through ``MLP.train``, the one training loop
- ``reductions.py``: sums over the batch as one BLAS call (the one speed trick kept, measured)
"""

from .activations import ACTIVATIONS, Activation, get_activation
from .adaptive_optimizers import Adadelta, Adamax, AMSGrad, NAdam
from .batches import MiniBatches
from .batchnorm import BatchNorm, BatchNormConvention
from .clipping import clip_gradients
from .dense import Dense
from .dropout import Dropout
from .initializers import INITIALIZERS, Initializer, get_initializer
from .losses import LOSSES, Loss, get_loss
from .mlp import MLP
from .optimizer_registry import OPTIMIZERS, get_optimizer
from .optimizers import (
    CONVENTIONS,
    SGD,
    Adagrad,
    Adam,
    AdamW,
    Optimizer,
    RMSprop,
)
from .regularized_mlp import RegularizedMLP
from .regularizers import L2

__all__ = [
    "ACTIVATIONS", "Activation", "get_activation", "Dense", "INITIALIZERS", "Initializer",
    "get_initializer", "LOSSES", "Loss", "get_loss", "MLP", "OPTIMIZERS", "SGD", "Optimizer",
    "get_optimizer", "CONVENTIONS", "Adam", "AdamW", "RMSprop", "Adagrad", "MiniBatches", "clip_gradients",
]
__all__ += ["NAdam", "Adamax", "AMSGrad", "Adadelta"]
__all__ += ["BatchNorm", "BatchNormConvention", "Dropout", "L2", "RegularizedMLP"]
