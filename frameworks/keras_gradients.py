"""dL/dvariables and dL/dX of a Keras model, on each Keras backend.

Keras 3 has no backend-neutral gradient call: each backend differentiates its
own way, and the Keras documentation writes a custom training step three times
("Customizing what happens in fit()" for TensorFlow, JAX and PyTorch). These
are those three recipes, reduced to one signature::

    loss, dL_dx, [dL_dv for v in variables] = GRADIENTS[backend](model, loss_fn, x, y, variables)

=============  ==============================================================
backend        how
=============  ==============================================================
tensorflow     ``with tf.GradientTape() as tape: loss = loss_fn(y, model(x))``;
               ``tape.gradient(loss, [x] + variables)``
jax            the model is a pure function of its variables' values
               (``keras.StatelessScope``, what ``model.stateless_call`` uses);
               ``jax.value_and_grad`` of ``loss_fn(y, model(x))`` with respect
               to (values, x); BatchNorm's moved statistics are written back
torch          ``loss = loss_fn(y, model(x))`` with ``x.requires_grad``;
               ``torch.autograd.grad(loss, [x] + parameters)``
=============  ==============================================================

``variables`` is any order of the model's trainable variables; the gradients
come back in that order.

A training step (``keras_twin.Twin.train``) is compiled on TensorFlow
(``tf.function``) and on JAX (``jax_train_step``: ``jax.jit`` of the stateless
step, as Keras's JAX trainer does); on torch it runs eagerly.
"""

from __future__ import annotations

import contextlib


def tensorflow_gradients(model, loss_fn, x, y, variables):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = loss_fn(y, model(x, training=True))
    grads = tape.gradient(loss, [x] + list(variables))
    return loss, grads[0], list(grads[1:])


# On JAX, every computation runs as one jax.jit, compiled once per model and argument shapes and
# kept on the model: run eagerly, JAX compiles every op for every new shape, one XLA compilation
# each (about 70 for one gradient call of a 3-layer lesson), which took most of the keras-jax time.
def _compiled(model, key, build):
    """The compiled function ``key`` of ``model``, built by ``build()`` the first time.

    Kept in an attribute of the model (set past Keras's attribute tracking), so it goes
    when the model goes (``frameworks.get_twin`` keeps a bounded number of twins).
    """
    cache = model.__dict__.get("_nnparity_compiled")
    if cache is None:
        cache = {}
        object.__setattr__(model, "_nnparity_compiled", cache)
    if key not in cache:
        cache[key] = build()
    return cache[key]


def _dropouts(model) -> list:
    """The layers whose dropout mask is handed in (``keras_dropout.SharedMaskDropout``): arguments when compiled."""
    return [layer for layer in model.layers if hasattr(layer, "scaled_mask")]


@contextlib.contextmanager
def _masks(dropouts, masks):
    """Each dropout layer reads ``masks`` (traced) inside a compiled function, its own mask after."""
    saved = [layer.scaled_mask for layer in dropouts]
    for layer, mask in zip(dropouts, masks):
        layer.scaled_mask = mask
    try:
        yield
    finally:
        for layer, mask in zip(dropouts, saved):
            layer.scaled_mask = mask


def _stateless_loss(model, loss_fn, trainable, state, dropouts):
    """``loss_of(values, state_values, masks, x, y) -> (loss, moved state values)``: the training loss
    as a pure function of the variables' values, for ``jax.value_and_grad``.

    The whole loss runs in one stateless scope, so kernel regularizers (``model.losses``) read the
    traced values; ``moved`` is what the call writes to ``state`` (BatchNormalization's moving statistics).
    """
    from keras import StatelessScope

    def loss_of(values, state_values, masks, x, y):
        with _masks(dropouts, masks), StatelessScope(
                state_mapping=list(zip(trainable, values)) + list(zip(state, state_values))) as scope:
            loss = loss_fn(y, model(x, training=True))
            moved = [scope.get_current_value(v) for v in state]
        return loss, moved

    return loss_of


def jax_gradients(model, loss_fn, x, y, variables):
    import jax

    trainable, state = list(model.trainable_variables), list(model.non_trainable_variables)
    dropouts = _dropouts(model)

    def build():
        loss_of = _stateless_loss(model, loss_fn, trainable, state, dropouts)
        return jax.jit(jax.value_and_grad(loss_of, argnums=(0, 3), has_aux=True))

    (loss, moved), (grads, gx) = _compiled(model, ("gradients", id(loss_fn)), build)(
        [v.value for v in trainable], [v.value for v in state], [layer.scaled_mask for layer in dropouts], x, y)
    for v, value in zip(state, moved):  # BatchNormalization's moving statistics move, as on every backend
        v.assign(value)
    by_variable = {id(v): g for v, g in zip(trainable, grads)}
    return loss, gx, [by_variable[id(v)] for v in variables]


def jax_compiled(model, key, compute, *args):
    """``compute(*args)``, a computation that calls ``model``, run on JAX as one compiled function.

    The model's variables go in as values (``StatelessScope``), and what the call
    moves (BatchNormalization's moving statistics) is written back, as an eager call
    would: the same computation, compiled once (per ``key`` and argument shapes)
    instead of op by op. Used for the forward pass and the loss (``Twin.forward``,
    ``Twin.loss``).
    """
    import jax
    from keras import StatelessScope

    variables = list(model.variables)
    dropouts = _dropouts(model)

    def build():
        def pure(values, masks, *args):
            with _masks(dropouts, masks), StatelessScope(state_mapping=list(zip(variables, values))) as scope:
                out = compute(*args)
                moved = [scope.get_current_value(v) for v in variables]
            return out, moved

        return jax.jit(pure)

    out, moved = _compiled(model, key, build)([v.value for v in variables],
                                              [layer.scaled_mask for layer in dropouts], *args)
    for v, value in zip(variables, moved):
        v.assign(value)
    return out


def jax_train_step(model, loss_fn, optimizer, variables):
    """One training step on JAX, compiled: ``train_step(x, y) -> loss``, updating the variables in place.

    What Keras's own JAX trainer does (``keras/src/backend/jax/trainer.py``): the
    model, loss and optimizer run as pure functions of their variables' values
    (``StatelessScope``, ``optimizer.stateless_apply``), under one ``jax.jit``,
    compiled once per batch shape. The step is the eager one's (``jax_gradients``
    then ``optimizer.apply``): the same loss, gradients and update formula, without
    dispatching every op from Python. ``variables`` are the trainable variables in
    the order ``optimizer`` was built with; BatchNormalization's moving statistics
    and the optimizer's own variables (iterations, learning rate, moments) go in and
    come back as values, and are written back after the step, so the learning rate
    can be set between steps and ``get_params`` reads the weights as after an eager
    step. The dropout masks are arguments: a new mask every step, without recompiling.
    """
    import jax

    state = list(model.non_trainable_variables)
    dropouts = _dropouts(model)

    loss_of = _stateless_loss(model, loss_fn, variables, state, dropouts)

    @jax.jit
    def step(values, optimizer_values, state_values, masks, x, y):
        (loss, moved), grads = jax.value_and_grad(loss_of, has_aux=True)(values, state_values, masks, x, y)
        values, optimizer_values = optimizer.stateless_apply(optimizer_values, grads, values)
        return loss, values, optimizer_values, moved

    def train_step(x, y):
        loss, values, optimizer_values, moved = step(
            [v.value for v in variables], [v.value for v in optimizer.variables], [v.value for v in state],
            [layer.scaled_mask for layer in dropouts], x, y)
        for v, value in zip([*variables, *optimizer.variables, *state], [*values, *optimizer_values, *moved]):
            v.assign(value)
        return loss

    return train_step


def torch_gradients(model, loss_fn, x, y, variables):
    import torch

    x = x.detach().requires_grad_(True)
    loss = loss_fn(y, model(x, training=True))
    grads = torch.autograd.grad(loss, [x] + [v.value for v in variables])
    return loss, grads[0], list(grads[1:])


GRADIENTS = {
    "tensorflow": tensorflow_gradients,
    "jax": jax_gradients,
    "torch": torch_gradients,
}
