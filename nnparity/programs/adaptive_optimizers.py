"""NAdam, Adamax, AMSGrad and Adadelta in the three programs (``reference/adaptive_optimizers.py``'s four).

The NumPy program writes torch's formula out, as it does Adam's; the PyTorch program constructs
``torch.optim.NAdam``, ``Adamax``, ``Adam(amsgrad=True)`` or ``Adadelta``; the Keras program
``keras.optimizers.Nadam``, ``Adamax``, ``Adam(amsgrad=True)`` or ``Adadelta``, with the same numbers.
Where the two frameworks' formulas differ (docs/conventions-optimizers.md), no setting makes them
agree and each program says so: each framework's program is held to the reference under its own
convention, as the Adam programs are.

One detail needs a line of its own: torch keeps NAdam's momentum product ``mu_1 * ... * mu_t`` in
its default dtype, float32 unless a program says otherwise, as the torch twin and the reference's
torch convention have it. These programs make float64 the default (``set_default_dtype``) for their
arrays, so the PyTorch program sets float32 back before it trains, and the NumPy program rounds the
product to float32 as torch does. Kept in float64 instead, the product parts the runs from the
reference by 3.7e-10 after 50 epochs of spiral and 7.8e-9 after 5 of keras-4-64-32-1 (measured).
"""

from __future__ import annotations

from conformance.lessons import Lesson

from .declaration import OPTIMIZER_HYPER as HYPER
from .declaration import num

# optimizer -> (torch's class, Keras's, what differs between them); AMSGrad is Adam(..., amsgrad=True)
CLASSES = {
    "nadam": ("NAdam(", "Nadam(", ["# Keras's Nadam has no momentum_decay: it computes",
                                   "# torch's momentum_decay=1.0, its 0.96 in float32"]),
    "adamax": ("Adamax(", "Adamax(", ["# epsilon: inside the max in torch, after it in",
                                      "# Keras: not quite the same formula"]),
    "amsgrad": ("Adam(", "Adam(", ["# Keras adds epsilon before the bias correction,",
                                                             "# torch after it: not quite the same formula"]),
    "adadelta": ("Adadelta(", "Adadelta(", ["# one formula in both (the defaults differ)"]),
}
# optimizer -> the state arrays of each parameter, with what they hold
STATE = {"nadam": ("m", "v"), "adamax": ("m", "u"), "amsgrad": ("m", "v", "v_max"), "adadelta": ("s", "d")}
MEANING = {"m": "mean of g", "v": "mean of g**2", "u": "running max of |g|", "v_max": "largest v so far",
           "s": "mean of g**2", "d": "mean of the steps**2"}
UPDATE = {
    "nadam": ["t += 1  # NAdam, as torch",
              "mu_t, mu_next = mu(t), mu(t + 1)",
              "# mu_1 * ... * mu_t, in float32 as torch keeps it",
              "product = float(np.float32(product) * np.float32(mu_t))",
              "for p, g, m_p, v_p in zip(params, grads, m, v):",
              "    m_p[:] = beta_1 * m_p + (1 - beta_1) * g",
              "    v_p[:] = beta_2 * v_p + (1 - beta_2) * g * g",
              "    now = (1 - mu_t) / (1 - product) * g",
              "    ahead = mu_next / (1 - product * mu_next) * m_p",
              "    denom = np.sqrt(v_p / (1 - beta_2**t)) + epsilon",
              "    p -= learning_rate * (now + ahead) / denom"],
    "adamax": ["t += 1  # Adamax, as torch: epsilon inside the max",
               "for p, g, m_p, u_p in zip(params, grads, m, u):",
               "    m_p[:] = beta_1 * m_p + (1 - beta_1) * g",
               "    u_p[:] = np.maximum(beta_2 * u_p, np.abs(g) + epsilon)",
               "    p -= learning_rate / (1 - beta_1**t) * m_p / u_p"],
    "amsgrad": ["t += 1  # AMSGrad: Adam dividing by the largest v yet",
                "for p, g, m_p, v_p, w_p in zip(params, grads, m, v, v_max):",
                "    m_p[:] = beta_1 * m_p + (1 - beta_1) * g",
                "    v_p[:] = beta_2 * v_p + (1 - beta_2) * g * g",
                "    w_p[:] = np.maximum(w_p, v_p)",
                "    m_hat = m_p / (1 - beta_1**t)",
                "    v_hat = w_p / (1 - beta_2**t)",
                "    p -= learning_rate * m_hat / (np.sqrt(v_hat) + epsilon)"],
    "adadelta": ["# Adadelta: the steps' own size sets the scale",
                 "for p, g, s_p, d_p in zip(params, grads, s, d):",
                 "    s_p[:] = rho * s_p + (1 - rho) * g * g",
                 "    rms_step = np.sqrt(d_p + epsilon)",
                 "    delta = rms_step / np.sqrt(s_p + epsilon) * g",
                 "    d_p[:] = rho * d_p + (1 - rho) * delta * delta",
                 "    p -= learning_rate * delta"],
}


def numpy_state(lesson: Lesson, params: str) -> list[str]:
    """The NumPy program's optimizer step: the hyper-parameters, ``params`` and each parameter's state."""
    names, hyper = HYPER[lesson.optimizer], lesson.hyperparameters
    lines = [f"{', '.join(names)} = (", f"    {', '.join(num(hyper[n]) for n in names)})",
             "# the parameters, updated in place", params]
    lines += [f"{s} = [np.zeros_like(p) for p in params]  # {MEANING[s]}" for s in STATE[lesson.optimizer]]
    if lesson.optimizer == "nadam":
        return lines + ["t, product = 0, 1.0  # steps; mu_1 * ... * mu_t", "",
                        "def mu(t):  # the momentum of step t, warming up",
                        "    return beta_1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))"]
    return lines + (["t = 0  # steps taken"] if lesson.optimizer != "adadelta" else [])


def numpy_update(lesson: Lesson) -> list[str]:
    return list(UPDATE[lesson.optimizer])


def _arguments(lesson: Lesson, names: dict, value) -> list[str]:
    hyper = lesson.hyperparameters
    return [f"    {names.get(n, n)}={value(n, hyper[n])}," for n in HYPER[lesson.optimizer]]


def torch_lines(lesson: Lesson) -> list[str]:
    torch_class, _, differs = CLASSES[lesson.optimizer]
    hyper = lesson.hyperparameters
    if "beta_1" in hyper:
        args = [f"    lr={num(hyper['learning_rate'])}, eps={num(hyper['epsilon'])},",
                f"    betas=({num(hyper['beta_1'])}, {num(hyper['beta_2'])}),"]
        args += [f"    momentum_decay={num(hyper['momentum_decay'])},"] if lesson.optimizer == "nadam" else []
    else:
        args = _arguments(lesson, {"learning_rate": "lr", "epsilon": "eps"}, lambda n, v: num(v))
    if lesson.optimizer == "nadam":
        differs = differs + ["# its momentum product takes the default dtype: float32,",
                             "# as NumPy's and a torch program's by default",
                             "torch.set_default_dtype(torch.float32)"]
    amsgrad = ["    amsgrad=True,"] if lesson.optimizer == "amsgrad" else []
    return differs + [f"optimizer = torch.optim.{torch_class}", "    model.parameters(),"] + args + amsgrad + [")"]


def keras_lines(lesson: Lesson) -> list[str]:
    _, keras_class, differs = CLASSES[lesson.optimizer]
    names = [n for n in HYPER[lesson.optimizer] if n != "momentum_decay"]
    hyper = lesson.hyperparameters
    args = [f"    {n}={num(hyper[n])}," if (lesson.optimizer, n) == ("adadelta", "rho")
            else f"    {n}=np.float64({num(hyper[n])})," for n in names]
    if lesson.optimizer == "adadelta":
        differs = differs + ["# rho a Python float: Adadelta computes rho * a variable,",
                             "# which np.float64 breaks in fit's graph (exact all the same)"]
    amsgrad = ["    amsgrad=True,"] if lesson.optimizer == "amsgrad" else []
    return differs + [f"optimizer = keras.optimizers.{keras_class}"] + args + amsgrad + [")"]
