"""Which of a script's arrays is which parameter of the lesson: its shapes, its name's hints, the best assignment.

``parameter_shapes`` gives the shapes each parameter may have in either layout ((in, out) as ``X @ W``,
(out, in) as ``W @ x``); ``assign_slots`` picks, among the arrays an update changed (or the script
holds), one per parameter, every kernel in one layout. Used in the child (``script_child.py``: has
every parameter been updated?) and after it (``script_read.py``, ``optimizer_read.py``).
"""

from __future__ import annotations

import re


def parameter_shapes(sizes, use_bias, batchnorm: bool = False, optional: bool = True,
                     layernorm: bool = False) -> list[tuple[str, dict[str, set]]]:
    """[(slot name, {layout: {shapes the slot may have in that layout}})] in the order W1, b1, [gamma1, beta1,] W2, ...

    With ``batchnorm`` every hidden layer has gamma<l> and beta<l>; its Dense bias b<l> (whose gradient
    is 0: BatchNorm subtracts the batch mean) is left out unless ``optional``. With ``layernorm`` every
    hidden layer has gamma<l> and beta<l> too, and its bias is required: LayerNorm subtracts each row's
    mean over the units, which does not remove a bias that differs from unit to unit."""
    slots = []
    normed = range(1, len(sizes) - 1) if batchnorm or layernorm else ()
    hidden = normed if batchnorm else ()
    for layer in range(1, len(sizes)):
        fan_in, units = sizes[layer - 1], sizes[layer]
        one = {(fan_in,)} if units == 1 else set()  # a single unit's weights as a vector: w = [0.3, -0.1]
        slots.append((f"W{layer}", {"(in, out)": {(fan_in, units)} | one, "(out, in)": {(units, fan_in)} | one}))
        scalar = {()} if units == 1 else set()  # a single unit's bias as a number: b = 0.2
        vector = {"(in, out)": {(units,), (1, units)} | scalar, "(out, in)": {(units,), (units, 1)} | scalar}
        if use_bias and (optional or layer not in hidden):
            slots.append((f"b{layer}", vector))
        if layer in normed:
            slots += [(f"gamma{layer}", vector), (f"beta{layer}", vector)]
    return slots


HINTS = {"gamma": ("gamma", "scale", "g"), "beta": ("beta", "shift"), "b": ("b", "bias")}
STATE_PREFIX = re.compile(r"^(m|v|s|r|vel|velocity|moment|momentum|cache|sq|avg|ms)_")
RUNNING = re.compile(r"running|moving|mean|var|avg|stat|^mu|sigma", re.I)  # BatchNorm's statistics: not trained


def _hinted(slot: str, label: str) -> bool:
    """Whether a label reads as the slot's kind (gamma, beta, a bias); kernels take any name."""
    kind = re.match(r"[A-Za-z]+", slot).group(0)
    base = label.split("@")[0].split(".")[-1].split("[")[-1].strip("'\"]").lower()
    base = STATE_PREFIX.sub("", base)  # an optimizer's state of b1 (v_b1, m_gamma1) reads as its parameter
    if kind not in HINTS:
        return True
    if kind == "b":
        return (base.startswith("b") and not base.startswith("beta")) or "bias" in base
    return base.startswith(HINTS[kind]) or (HINTS[kind][0] in base and not base.startswith(("d", "grad")))


def assign_slots(slots, candidates) -> tuple[str, dict[str, int]] | None:
    """(layout, {slot: index into candidates}) using each candidate once, or None.

    ``candidates`` is a list of (label, shape) or (label, shape, rank), best first (rank 0 before
    rank 1). Every kernel in one layout, each bias in a shape that layout allows; a slot takes the
    best unused candidate of a fitting shape, one whose label carries the slot's layer number first.
    """
    found = []
    for layout in ("(in, out)", "(out, in)"):
        used, chosen = set(), {}
        for name, shapes in slots:
            fits = [i for i, (label, shape, *rank) in enumerate(candidates)
                    if i not in used and shape in shapes[layout]]
            if not fits:
                break
            layer = re.sub(r"\D", "", name.split("|")[0])  # "W1|2": the third array of W1's slot (an optimizer's state)
            pick = min(fits, key=lambda i: (_rank(candidates[i]), not _hinted(name, candidates[i][0]),
                                            _digits(candidates[i][0]) != layer, i))
            chosen[name] = pick
            used.add(pick)
        else:
            found.append((sum(_rank(candidates[i]) for i in chosen.values()), layout, chosen))
    return min(found, key=lambda f: f[0])[1:] if found else None


def _plainness(label: str) -> tuple[bool, bool]:
    """How plainly a label names an array: a module's variable, then an element or attribute, then a local."""
    return "@" in label, "[" in label or "." in label


def _rank(candidate) -> int:
    return candidate[2] if len(candidate) > 2 else 0


def _digits(label: str) -> str:
    return "".join(ch for ch in label.split(".")[-1] if ch.isdigit())
