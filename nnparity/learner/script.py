"""A learner's script (no class): run it in a child process until its first update, and refuse what cannot be run.

    nnparity check my_script.py --lesson spiral [--lr 0.05] [--time-limit 10]

``run_script`` checks the file (it exists, parses, has a loop), then runs it with
``python -m nnparity.learner.script_child`` (``subprocess``: a fresh interpreter, never a fork),
its stdin closed, ``MPLBACKEND=Agg`` (a plot opens no window), in the current folder, with a time
limit. ``script_child.py`` says how the first update is caught and why nothing after it runs.
What comes back is a dict: the arrays changed by the update (before and after, the line that
changed them), every array the loop bound before it (name, line, value), and what the script
held when it was stopped. Everything that stops the check is a ``LearnerError`` (exit status 2).
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from conformance.lessons import Lesson, canonical_params

from .calls import LearnerError
from .script_result import read_result
from .slots import parameter_shapes

TIME_LIMIT = 10.0  # seconds a script may take to reach its first update (--time-limit)
# The time limit counts from the script's first line (the child's own alarm, script_child.py); this much
# more is the child's start (an interpreter importing NumPy), which took over 5 s on a loaded 2-core CI
# machine: past it the child is killed without saying where the script was.
STARTUP_ALLOWANCE = 60.0
PROJECT_ROOT = Path(__file__).resolve().parents[2]  # so the child finds nnparity from any folder


def script_path(target: str) -> Path:
    """The script's resolved path, checked: a .py file that parses and has a loop."""
    path = Path(target)
    if not path.is_file():
        raise LearnerError(f"{target}: no such file")
    if path.suffix != ".py":
        raise LearnerError(f"{target}: expected a Python file (.py)")
    source = path.read_text(encoding="utf-8", errors="replace")
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise LearnerError(f"{path.name}: line {exc.lineno}: SyntaxError: {exc.msg}") from None
    if not any(isinstance(n, (ast.For, ast.While, ast.AsyncFor)) for n in ast.walk(tree)):
        raise LearnerError(
            f"{path.name}: no loop: nnparity checks a script by running it until its training loop "
            f"(for epoch in range(...): ... W1 -= lr * dW1) makes its first update, and this file has no "
            f"for or while loop." + (_class_hint(path) or f" For a class, name it: {path.name}:ClassName")
        )
    return path.resolve()


def source_line(path: Path, line: int | None) -> str:
    """'line 42: `W1 -= lr * dW1`' (or '' when the line is unknown)."""
    if not line:
        return ""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    return f"line {line}: `{text}`" if text else f"line {line}"


def _shapes_text(lesson: Lesson) -> str:
    return ", ".join(f"{name} {' or '.join(str(s) for s in sorted({s for ss in by.values() for s in ss}))}"
                     for name, by in parameter_shapes(lesson.sizes, lesson.use_bias, layernorm=lesson.layernorm))


def _norm_start(lesson: Lesson) -> dict | None:
    """A LayerNorm lesson's canonical gamma and beta of each hidden layer, for a script whose own are still at
    1 and 0 (script_child.Watch.start_norms); None without LayerNorm."""
    if not lesson.layernorm:
        return None
    params = canonical_params(lesson)
    return {kind: [params[f"{kind}{l}"].tolist() for l in range(1, lesson.n_layers)] for kind in ("gamma", "beta")}


def run_script(path: Path, lesson: Lesson, time_limit: float = TIME_LIMIT, per_slot: int = 1) -> dict:
    """Run the script until its first update; what it held (see the module doc). LearnerError otherwise.

    ``per_slot``: the arrays one update changes per parameter (2 or 3 with an optimizer's state)."""
    spec = json.dumps({"sizes": list(lesson.sizes), "use_bias": lesson.use_bias, "time_limit": time_limit,
                       "per_slot": per_slot, "batchnorm": lesson.batchnorm,
                       "layernorm": lesson.layernorm, "layernorm_start": _norm_start(lesson)})
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1",
               PYTHONPATH=os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p))
    with tempfile.TemporaryDirectory(prefix="nnparity-check-") as folder:
        result = os.path.join(folder, "result.npz")
        try:
            done = subprocess.run([sys.executable, "-m", "nnparity.learner.script_child", str(path), result, spec],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  env=env, timeout=time_limit + STARTUP_ALLOWANCE, check=False)
        except subprocess.TimeoutExpired:  # the child's own alarm did not fire: subprocess.run killed it
            raise LearnerError(_too_long(path, time_limit, None)) from None
        if not os.path.exists(result):
            where = Path(result + ".where")
            if where.exists() and where.read_text().strip():  # faulthandler's backstop (script_child.BACKSTOP)
                raise LearnerError(_too_long(path, time_limit, _dumped_line(path, where.read_text())))
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
            raise LearnerError(f"{path.name}: the script's process ended (exit status {done.returncode}) before its "
                               f"first update" + (": " + " | ".join(tail) if tail else ""))
        payload = read_result(result)
        if payload["status"] == "time":  # the child's alarm: the line its tracer was on
            raise LearnerError(_too_long(path, time_limit, payload.get("line")))
        payload["shapes"] = {k: tuple(v) for k, v in payload.get("shapes", {}).items()}
    _refuse(path, lesson, payload)
    return payload


def _shapes_hint(where: str, shapes: dict) -> str:
    """The shapes of the arrays the failing line reads; a (N, N) array next to targets of shape (N,) explained."""
    code = where.split("`")[1] if where.count("`") >= 2 else ""
    read = {name: shape for name, shape in shapes.items() if re.search(rf"\b{re.escape(name)}\b", code)}
    if not read:
        return ""
    text = "; the arrays it reads: " + ", ".join(f"{name} {shape}" for name, shape in read.items())
    flat = {name: shape[0] for name, shape in shapes.items()
            if len(shape) == 1 and name.lower().startswith(("y", "target", "label"))}
    for name, shape in read.items():
        target = next((t for t, n in flat.items() if len(shape) == 2 and shape == (n, n)), None)
        if target is not None:
            text += (f". {name} is {shape}: {target} has shape {shapes[target]} while the output is ({shape[0]}, 1), "
                     f"so output - {target} broadcast to a {shape[0]} x {shape[0]} matrix; reshape {target} to "
                     f"({shape[0]}, 1) (y.reshape(-1, 1))")
            break
    return text


def _dumped_line(path: Path, dump: str) -> int | None:
    """The script's innermost line in faulthandler's dump (most recent call first), or None."""
    lines = [int(m) for m in re.findall(rf'File "{re.escape(str(path))}", line (\d+)', dump)]
    return lines[0] if lines else None


def _too_long(path: Path, time_limit: float, line: int | None) -> str:
    """The time limit's message, with the script's line it was on (the child's tracer kept it)."""
    at = f" It was at {source_line(path, line)}." if line else ""
    return (f"{path.name}: no update within the time limit of {time_limit:g} s, so nnparity stopped it.{at} "
            f"A loop that never ends before its first update, or work before the loop that takes longer "
            f"(give more time with --time-limit SECONDS)")


def _refuse(path: Path, lesson: Lesson, payload: dict) -> None:
    status = payload["status"]
    if status == "input":
        raise LearnerError(f"{path.name}: the script waits for input ({source_line(path, payload.get('line')) or 'input()'}); "
                           f"nnparity runs it with no keyboard: set the value in the script instead")
    if status == "error":
        where = source_line(path, payload.get("line"))
        raise LearnerError(f"{path.name}: the script raised {payload['why']}" + (f" at {where}" if where else "")
                           + ", before its first update" + _shapes_hint(where, payload.get("shapes", {})))
    if status == "ended" and not payload["changes"]:
        raise LearnerError(
            f"{path.name}: {payload['why']} without its loop updating an array of lesson {lesson.name}'s parameter "
            f"shapes ({_shapes_text(lesson)}). nnparity looks for an update inside a loop: `W1 -= lr * dW1`, "
            f"`W1 += ...` or `W1 = W1 - ...`. Does the loop run, and does it update the weights of this lesson?"
            + _class_hint(path)
        )


def _class_hint(path: Path) -> str:
    """' To check a class instead, name it: net.py:NeuralNetwork' for the file's classes with a forward."""
    tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    classes = [n.name for n in tree.body if isinstance(n, ast.ClassDef)
               and any(isinstance(f, ast.FunctionDef) and f.name == "forward" for f in n.body)]
    return (f" To check a class instead, name it (PATH.py:ClassName): "
            f"{', '.join(f'{path.name}:{c}' for c in classes)}" if classes else "")
