"""The tree is the map: the README's layout is the tree, the imports have no cycle, the sizes stay small.

Read from the source with ``ast`` (nothing is imported), so a module added, moved or wired in a circle
fails here before anyone has to find it.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("reference", "frameworks", "conformance", "nnparity", "tools")
# Imports a function may make lazily: a framework or a heavy optional library (the extras' packages), or a
# project module that imports one at its top (the twins). Anything else is imported at the top of its module.
LAZY = {"torch", "keras", "tensorflow", "jax", "matplotlib", "sklearn", "scipy", "jinja2", "markupsafe", "pygments",
        "hypothesis", "xdist", "frameworks.torch_twin", "frameworks.keras_twin", "frameworks.keras_fit",
        "frameworks.torch_fit", "frameworks.keras_gradients", "frameworks.keras_backends",
        "safetensors", "nnparity.weights",
        "frameworks.torch_adapters"}  # compare_models makes torch follow a Keras formula through its adapters  # the export extra: nnparity export imports it when it runs
LONG_MODULES = {"conformance/lessons.py"}  # the lesson catalog: data, one declaration after another
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def sources(suites: bool = True) -> list[Path]:
    """Every module of the project's packages (``suites=False``: without the conformance suite's tests)."""
    found = sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))
    return found if suites else [p for p in found if "tests" not in p.relative_to(ROOT).parts]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imports(path: Path) -> list[tuple[str, bool]]:
    """(the module each import names, whether it is inside a function), relative imports resolved."""
    tree = ast.parse(path.read_text())
    package = module_name(path).split(".") if path.name == "__init__.py" else module_name(path).split(".")[:-1]
    inside = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
              for n in ast.walk(f)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, id(node) in inside) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[:len(package) - node.level + 1]) if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            # a name that is a module of the project (`from frameworks import torch_twin`) is that module
            submodules = [f"{module}.{a.name}" for a in node.names if is_module(f"{module}.{a.name}")]
            out += [(m, id(node) in inside) for m in (submodules or [module])]
    return out


def project_graph() -> dict[str, set[str]]:
    """module -> the project modules it imports (at its top or in a function)."""
    modules = {module_name(p): p for p in sources()}
    graph = {}
    for name, path in modules.items():
        graph[name] = {m for m, _ in imports(path) if m in modules and m != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_the_project_has_no_import_cycle():
    assert cycles(project_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_a_function_imports_only_a_framework_or_a_heavy_optional_library():
    """Project modules are imported at the top; only the lazy ones (LAZY) may wait for a function."""
    late = [f"{p.relative_to(ROOT)}: {m}" for p in sources(suites=False) for m, in_function in imports(p)
            if in_function and not any(m == lazy or m.startswith(lazy + ".") for lazy in LAZY)
            and m.split(".")[0] in PACKAGES]
    assert late == []


def test_no_module_is_longer_than_400_lines_but_the_catalog():
    long = {str(p.relative_to(ROOT)): n for p in sources() if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert set(long) <= LONG_MODULES, long


def test_no_function_is_longer_than_60_lines():
    long = [f"{p.relative_to(ROOT)}:{f.lineno} {f.name} ({f.end_lineno - f.lineno + 1} lines)"
            for p in [*sources(), *sorted((ROOT / "tests").rglob("*.py"))] for f in ast.walk(ast.parse(p.read_text()))
            if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.end_lineno - f.lineno + 1 > MAX_FUNCTION_LINES]
    assert long == []


def test_no_homemade_process_layer():
    """Processes are concurrent.futures / multiprocessing: no fork(), ctypes, prctl or lock files of our own."""
    pattern = re.compile(r"\bos\.fork\(|\bimport ctypes\b|\bprctl\b|O_EXCL")
    found = [str(p.relative_to(ROOT)) for p in sources() if pattern.search(p.read_text())]
    assert found == []


def layout_paths() -> set[str]:
    """Every path the README's Layout section names: folders end with '/', modules with '.py'."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    paths, stack = set(), []
    for line in block.splitlines()[1:]:
        if not line.strip():
            continue
        depth = (len(line) - len(line.lstrip(" "))) // 2
        stack = stack[:depth]
        for token in line.split():
            if token.endswith("/") and re.fullmatch(r"[\w./]+", token):
                paths.add("/".join([*stack, token.rstrip("/")]) + "/")
                stack = [*stack, token.rstrip("/")]
                break
            if re.fullmatch(r"[\w]+\.py", token):
                paths.add("/".join([*stack, token]))
    return paths


def test_the_readme_layout_names_every_module_and_folder_of_the_tree():
    listed = layout_paths()
    modules = {str(p.relative_to(ROOT)) for p in sources() if not p.name.startswith("test_") and p.name != "conftest.py"}
    folders = {str(p.parent.relative_to(ROOT)) + "/" for p in [*sources(), *(ROOT / "tests").rglob("*.py")]}
    assert modules - listed == set(), "modules the README's layout does not name"
    assert folders - listed == set(), "folders the README's layout does not name"


def test_everything_the_readme_layout_names_exists():
    missing = sorted(p for p in layout_paths() if not (ROOT / p).exists())
    assert missing == []


def test_a_test_file_name_is_used_once():
    """Two test files of one name read as one subject in two places (and collide without packages)."""
    names = Counter(p.name for folder in ("tests", *PACKAGES) for p in (ROOT / folder).rglob("test_*.py"))
    assert [name for name, n in names.items() if n > 1] == []
