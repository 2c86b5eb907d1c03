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
"""

from __future__ import annotations


def tensorflow_gradients(model, loss_fn, x, y, variables):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = loss_fn(y, model(x, training=True))
    grads = tape.gradient(loss, [x] + list(variables))
    return loss, grads[0], list(grads[1:])


def jax_gradients(model, loss_fn, x, y, variables):
    import jax
    from keras import StatelessScope

    trainable, state = list(model.trainable_variables), list(model.non_trainable_variables)
    state_values = [v.value for v in state]

    def loss_of(values, x):
        # the whole loss inside one stateless scope, so kernel regularizers (model.losses) read the traced values
        with StatelessScope(state_mapping=list(zip(trainable, values)) + list(zip(state, state_values))) as scope:
            loss = loss_fn(y, model(x, training=True))
            moved = [scope.get_current_value(v) for v in state]
        return loss, moved

    (loss, moved), (grads, gx) = jax.value_and_grad(loss_of, argnums=(0, 1), has_aux=True)(
        [v.value for v in trainable], x)
    for v, value in zip(state, moved):  # BatchNormalization's moving statistics move, as on every backend
        if value is not None:
            v.assign(value)
    by_variable = {id(v): g for v, g in zip(trainable, grads)}
    return loss, gx, [by_variable[id(v)] for v in variables]


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
