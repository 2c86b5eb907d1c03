"""nnparity's from-scratch NumPy reference: one concept family per file.

- ``activations.py``: sigmoid, tanh, relu, leaky_relu, softmax, linear, step (forward beside derivative)
- ``losses.py``: MSE, half sum of squares, binary and categorical cross-entropy (probabilities and logits)
- ``initializers.py``: zeros, normal, uniform, Glorot/Xavier, He/Kaiming, torch's Linear default
- ``dense.py``: the Dense layer, z = X @ W + b
- ``optimizers.py``: gradient descent and its relatives
- ``mlp.py``: the MLP that chains them
- ``training.py``: the training loop (epochs of mini-batches, in order)
"""

from .activations import ACTIVATIONS, Activation, get_activation
from .dense import Dense
from .initializers import INITIALIZERS, Initializer, get_initializer
from .losses import LOSSES, Loss, get_loss
from .mlp import MLP
from .optimizers import OPTIMIZERS, SGD, Optimizer, get_optimizer

__all__ = [
    "ACTIVATIONS", "Activation", "get_activation", "Dense", "INITIALIZERS", "Initializer",
    "get_initializer", "LOSSES", "Loss", "get_loss", "MLP", "OPTIMIZERS", "SGD", "Optimizer",
    "get_optimizer",
]
