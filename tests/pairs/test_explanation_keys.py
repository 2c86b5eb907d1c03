"""Every explanation key compare_models can emit is a row of frameworks/conventions.py (so its report prints
the row's torch and Keras lines), a name ``explain.ROW_OF`` maps to one, or one of ``explain.NOT_CONVENTIONS``
(a difference of the two models themselves, not of the frameworks).

The keys are read from the source with ``ast``: the first argument of every ``Explanation(...)`` in
nnparity/pairs, a string, or a name bound in its function to a string or unpacked from a module's
registry (``explain_optimizers.NO_SETTING``, ``explain_activations.SETTINGS``, ``HYPER``'s rows), whose
entries are then all read. A key this test cannot trace to its source fails, rather than pass unread.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from frameworks.conventions import TORCH_VS_KERAS
from nnparity.pairs.explain import NOT_CONVENTIONS, ROW_OF

PAIRS = Path(__file__).resolve().parents[2] / "nnparity" / "pairs"
# the ten keys added by issue 22's compare_models work, which the table once lacked
ISSUE_22_KEYS = {"rmsprop-epsilon", "adagrad-epsilon", "adamax-epsilon-in-max", "nadam-float32-decay",
                 "gelu-float32-constant", "elu-alpha", "softplus-beta", "hardtanh-range", "hardtanh-at-edges",
                 "leaky-relu-float32-slope"}


def _bindings(function: ast.AST, name: str):
    """(value, index) for each assignment in ``function`` that binds ``name`` (index: its place in a tuple target)."""
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id == name:
                    yield node.value, None
                elif isinstance(target, ast.Tuple):
                    for i, element in enumerate(target.elts):
                        if isinstance(element, ast.Name) and element.id == name:
                            yield node.value, i


def _resolve(value: ast.AST, index, module) -> set[str]:
    if index is not None and isinstance(value, ast.Tuple):
        value, index = value.elts[index], None
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return {value.value}
    if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name):  # REGISTRY[...], unpacked
        registry = getattr(module, value.value.id)
        return {entry[index] if index is not None else entry for entry in registry.values()} - {None}
    return set()


def _keys_of(node: ast.AST, function: ast.AST, module, where: str) -> set[str]:
    if isinstance(node, ast.IfExp):  # row if applies else "hyper-parameter"
        return _keys_of(node.body, function, module, where) | _keys_of(node.orelse, function, module, where)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    found = set()
    if isinstance(node, ast.Name):
        found = set().union(*(_resolve(v, i, module) for v, i in _bindings(function, node.id)))
    assert found, f"{where}: cannot trace the explanation key {ast.unparse(node)!r} to a string or a registry"
    return found


def emitted_keys() -> dict[str, str]:
    """{key: where} for every key an ``Explanation(...)`` in nnparity/pairs can carry."""
    keys = {}
    for path in sorted(PAIRS.glob("*.py")):
        module = importlib.import_module(f"nnparity.pairs.{path.stem}")
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            for call in ast.walk(function):
                if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "Explanation" and call.args:
                    where = f"{path.name}:{call.lineno}"
                    keys.update(dict.fromkeys(_keys_of(call.args[0], function, module, where), where))
    return keys


def test_the_source_is_read_down_to_the_registries():
    keys = emitted_keys()
    assert ISSUE_22_KEYS <= set(keys), ISSUE_22_KEYS - set(keys)
    assert {"hyper-parameter", "adam-epsilon", "sgd-default-lr", "amsgrad-epsilon", "kink-crossing"} <= set(keys)


def test_every_emitted_key_is_a_row_of_the_conventions_table():
    keys = emitted_keys()
    unrowed = {k: where for k, where in keys.items()
               if ROW_OF.get(k, k) not in TORCH_VS_KERAS and k not in NOT_CONVENTIONS}
    assert unrowed == {}, f"add a row to frameworks/conventions.py (with its proof) or map it in explain.ROW_OF: {unrowed}"


def test_the_mapping_names_rows_and_duplicates_none():
    assert set(ROW_OF.values()) <= set(TORCH_VS_KERAS)
    assert not set(ROW_OF) & set(TORCH_VS_KERAS)  # a row under a second name
    assert not set(NOT_CONVENTIONS) & set(TORCH_VS_KERAS)
