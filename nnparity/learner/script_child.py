"""The learner's script, run in a child process until its training loop has made its first update, then ended.

    python -m nnparity.learner.script_child SCRIPT RESULT.npz SPEC.json

``script.py`` starts this module in a fresh interpreter (``subprocess``, never a fork) with a time
limit. It imports nothing of nnparity but this file, so the child starts in the time NumPy takes.

How the first update is caught, and why nothing after it runs:

- the script runs as ``__main__`` under ``sys.settrace``; only frames of the script's own file are
  traced line by line, so a library's code runs at full speed;
- before every line of the script's code (and when one of its functions returns), ``Watch.event``
  looks at what the script holds: the variables of every frame of the script on the stack, and one
  level inside them (attributes of the script's own objects, ``self.W1``; values of dicts and lists);
- an *update* is a change to an array of one of the lesson's parameter shapes made, inside a loop, by
  an update statement (``w -= ...``, ``w += ...``, ``w = w - ...``, found in the source by ``ast``);
- as soon as the changed arrays make up every parameter of the lesson (``assign_slots``), the
  child writes what it saw and ends itself with ``os._exit``: the next line of the script never
  runs. Where a parameter is never updated, it ends as soon as an updated array changes a second
  time, or the loop whose pass made the first update (``Watch.pass_loop``: one sample, one
  mini-batch or one epoch) comes back to its first line or is left, before that line runs: what
  the rest of that pass does after its last update (a print, a file written) runs;
- ``input()`` ends the child at once (the script's stdin is closed as well);
- on a LayerNorm lesson, the script's gamma and beta still at 1 and 0 at the first line inside a loop where
  it holds them are given the lesson's canonical values, in place (``Watch.start_norms``): at 1 and 0, a
  gamma or beta used wrongly computes the right numbers. The payload names them (``injected``);
- the time limit counts from the script's first line: the tracer keeps the script's line about to run
  (``Watch.line``), and when the time is up (``SIGALRM``, ``signal.setitimer``) the child writes that
  line as its result and ends. A script stuck inside C code that holds the interpreter (the handler
  cannot run there) is ended ``BACKSTOP`` seconds later by ``faulthandler``, whose dump the parent
  reads for the line; the parent's own timeout (``subprocess.run(timeout=...)``) kills a child that
  never gets that far.
"""

from __future__ import annotations

import ast
import builtins
import faulthandler
import json
import os
import re
import signal
import sys
from pathlib import Path

import numpy as np

from .script_result import write_result
from .slots import RUNNING, _digits, _plainness, assign_slots, parameter_shapes

MAX_SIZE = 1_000_000  # arrays larger than this are not copied (not a lesson's intermediate)
# faulthandler's dump ends the child this long after its time limit, where the SIGALRM handler could not run
# (C code holding the interpreter); the handler needs far less (it runs at the next line of Python)
BACKSTOP = 5.0
# a LayerNorm's parameters by name (not a gradient, dgamma, nor an optimizer's state, v_beta1), and their start
NORM_NAMES = {"gamma": (re.compile(r"^(ln|norm|layernorm)?_?(gamma|scale)"), 1.0),
              "beta": (re.compile(r"^(ln|norm|layernorm)?_?(beta|shift)"), 0.0)}


def _is_update(node) -> bool:
    """``w -= ...``, ``w += ...``, ``w = w - ...`` (any target that the value reads)."""
    if isinstance(node, ast.AugAssign):
        return isinstance(node.op, (ast.Add, ast.Sub))
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        targets = node.targets[0].elts if isinstance(node.targets[0], ast.Tuple) else [node.targets[0]]
        read = {ast.dump(n) for n in ast.walk(node.value) if isinstance(n, (ast.Name, ast.Attribute, ast.Subscript))}
        return any(ast.dump(_as_load(t)) in read for t in targets)
    return False


def _as_load(target):
    copy = ast.parse(ast.unparse(target), mode="eval").body
    return copy


def source_map(tree) -> tuple[dict[int, list[tuple[int, int]]], set[int]]:
    """({line inside a loop's body: [(header line, last line) of each loop around it, innermost first]},
    {lines of update statements})."""
    loops, updates = {}, set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.For, ast.While, ast.AsyncFor)):
            for line in range(node.body[0].lineno, node.end_lineno + 1):
                loops.setdefault(line, []).append((node.lineno, node.end_lineno))
        if _is_update(node):
            updates.update(range(node.lineno, node.end_lineno + 1))
    for around in loops.values():
        around.sort(reverse=True)  # the innermost loop starts last
    return loops, updates


class Watch:
    """Everything the script holds, looked at before each of its lines; the first update caught."""

    def __init__(self, path: str, spec: dict, loops, updates, result: str):
        self.path, self.result = path, result
        self.slots = parameter_shapes(spec["sizes"], spec["use_bias"], spec.get("batchnorm", False), optional=False,
                                      layernorm=spec.get("layernorm", False))
        self.batchnorm = spec.get("batchnorm", False)
        per_slot = int(spec.get("per_slot", 1))  # arrays an update changes per parameter: 1, or with an optimizer's state
        self.expected = [(f"{name}|{j}", shapes) for name, shapes in self.slots for j in range(per_slot)]
        self.shapes = {s for _, by_layout in self.slots for shapes in by_layout.values() for s in shapes}
        self.loops, self.updates = loops, updates
        self.prev: dict[int, int | None] = {}  # frame id -> the line about to run in it (so: just ran, next time)
        self.seen: dict[str, tuple] = {}  # label -> (the object, a copy when parameter-shaped)
        self.order: dict[str, int] = {}  # label -> when first seen
        self.changes: dict[int, dict] = {}  # id of the changed array -> what changed, where
        self.records: list[tuple[str, int | None, np.ndarray]] = []  # arrays bound inside a loop, in order
        self.first = None  # (frame id, loop header, loop end) around the first update
        self.headers = {header for around in loops.values() for header, _ in around}
        self.numbers: dict[str, tuple] = {}  # label -> (a number the script holds, the 0-d array standing for it)
        self.pass_start: dict[int, int] = {}  # loop header -> len(records) when it last ran: a pass's start
        self.tick = 0
        self.printed = 0
        self.line: int | None = None  # the script's line about to run (or returning): named when the time is up
        self.finishing = False
        # a LayerNorm's gamma and beta still at 1 and 0 get the lesson's canonical values (start_norms)
        self.norm_start = spec.get("layernorm_start")  # {"gamma": [values of layer 1, ...], "beta": [...]}
        self.injected: list[str] = []
        self.norm_done = {"gamma": 0, "beta": 0}

    # ---- tracing -------------------------------------------------------------------------------------------

    def global_trace(self, frame, event, arg):
        if frame.f_code.co_filename != self.path:
            return None
        self.prev[id(frame)] = None
        return self.local_trace

    def local_trace(self, frame, event, arg):
        if event in ("line", "return"):
            self.event(frame, event)
        return self.local_trace

    def stack(self, frame) -> list:
        """The script's frames, innermost first."""
        out = []
        while frame is not None:
            if frame.f_code.co_filename == self.path:
                out.append(frame)
            frame = frame.f_back
        return out

    def event(self, frame, event: str) -> None:
        self.tick += 1
        self.line = frame.f_lineno
        line = self.prev.get(id(frame))  # the line that has just run in this frame
        self.prev[id(frame)] = frame.f_lineno if event == "line" else None
        stack = self.stack(frame)
        in_loop = line in self.loops or any(f.f_lineno in self.loops for f in stack[1:])
        self.scan(stack, line, in_loop and line in self.updates)
        if self.norm_start and event == "line" and frame.f_lineno in self.loops and not self.changes:
            self.start_norms(stack)
        if self.changes and assign_slots(self.expected, [(c["label"], c["before"].shape)
                                                      for c in self.changes.values()]) is not None:
            self.finish("updated", "every parameter had been updated")
        if self.first is not None and id(frame) == self.first[0]:
            _, header, end = self.first
            if event == "return" or frame.f_lineno == header or not header <= frame.f_lineno <= end:
                self.finish("updated", "the loop's first pass ended")
        if event == "line" and frame.f_lineno in self.headers:  # a loop starts a pass: its bindings from here
            self.pass_start[frame.f_lineno] = len(self.records)

    # ---- what the script holds -----------------------------------------------------------------------------

    def namespace(self, stack):
        """(label, value) of every array the script's frames hold, one level deep, outermost frame last."""
        for f in stack:
            module = f.f_code.co_name == "<module>"
            scope = f.f_globals if module else f.f_locals
            for name, value in list(scope.items()):
                if name.startswith("__"):
                    continue
                for label, array in self._inside(name, value):
                    yield (label if module else f"{label}@{f.f_code.co_name}"), array

    def _inside(self, label: str, value):
        if isinstance(value, np.ndarray):
            yield label, value
        elif isinstance(value, (float, int, np.floating, np.integer)) and not isinstance(value, bool) \
                and () in self.shapes:  # a one-unit network's bias, output or target kept as a number
            cached = self.numbers.get(label)
            if cached is None or cached[0] is not value:  # the same number object: the same array
                cached = self.numbers[label] = (value, np.asarray(value))
            yield label, cached[1]
        elif isinstance(value, dict) and len(value) <= 100:
            for k, v in list(value.items()):
                if isinstance(v, np.ndarray) and isinstance(k, (str, int)):
                    yield f"{label}[{k!r}]", v
        elif isinstance(value, (list, tuple)) and len(value) <= 100:
            for i, v in enumerate(value):
                if isinstance(v, np.ndarray):
                    yield f"{label}[{i}]", v
        elif getattr(type(value), "__module__", None) == "__main__" and hasattr(value, "__dict__"):
            for k, v in list(vars(value).items()):
                if isinstance(v, np.ndarray):
                    yield f"{label}.{k}", v

    def scan(self, stack, line, updating: bool) -> None:
        in_loop = line in self.loops or any(f.f_lineno in self.loops for f in stack[1:])
        for label, value in self.namespace(stack):
            if value.dtype.kind not in "fiub" or value.size > MAX_SIZE:
                continue
            self.order.setdefault(label, len(self.order))
            watched = value.dtype.kind == "f" and value.shape in self.shapes
            old = self.seen.get(label)
            if old is None or old[0] is not value:  # bound anew
                if in_loop and value.ndim <= 2 and (value.ndim or () in self.shapes):  # numbers: a one-unit net's
                    self.records.append((label, line, value.copy()))
                    if len(self.records) > 4000:
                        del self.records[:2000]
                        self.pass_start = {h: max(i - 2000, 0) for h, i in self.pass_start.items()}
                if updating and old is not None and old[1] is not None:  # a parameter rebound (any new shape)
                    self.change(stack, label, old[1], value, line)
            elif watched and not np.array_equal(old[1], value, equal_nan=True):  # changed in place
                if updating:
                    self.change(stack, label, old[1], value, line)
            self.seen[label] = (value, value.copy() if watched else None)

    def change(self, stack, label: str, before: np.ndarray, after: np.ndarray, line) -> None:
        if before.shape == after.shape and np.array_equal(before, after, equal_nan=True):
            return
        if self.batchnorm and RUNNING.search(label.split("@")[0].split(".")[-1]):
            return  # BatchNorm's running statistics move in the forward pass: not an update of a parameter
        key = id(after)
        known = self.changes.get(key)
        if known is not None and known["tick"] != self.tick:
            self.finish("updated", f"{known['label']} changed a second time")
        shown = label.split("@")[0]
        if known is not None:
            known["labels"].append(shown)
            if _plainness(label) < known["plain"]:  # W1 over params[0] over self.W1 over a function's local
                known["label"], known["plain"] = shown, _plainness(label)
            return
        self.changes[key] = {"label": shown, "labels": [shown], "before": before.copy(), "after": after.copy(),
                             "line": line, "tick": self.tick, "order": self.order.get(label, 0),
                             "plain": _plainness(label)}
        if self.first is None:
            self.first = self.pass_loop(stack, line)

    def start_norms(self, stack) -> None:
        """At the first line inside a loop where the script holds a LayerNorm's gamma and beta: those still at
        their start (every gamma 1, every beta 0, where a gamma or beta used wrongly computes the right numbers)
        are given the lesson's canonical values, in place (every name of the array sees them); once."""
        found = False
        for label, value in list(self.namespace(stack)):
            base = label.split("@")[0]
            name = base.split(".")[-1].split("[")[-1].strip("'\"]").lower()
            kind = next((k for k, start in NORM_NAMES.items() if start[0].search(name)), None)
            sizes = [len(v) for v in self.norm_start.get(kind or "gamma", [])]
            if kind is None or value.dtype.kind != "f" or value.size not in sizes or value.ndim > 2 \
                    or max(value.shape, default=0) != value.size:
                continue
            found = True
            if base in self.injected or not np.all(value == NORM_NAMES[kind][1]) or not value.flags.writeable:
                continue
            layer = int(_digits(base) or 0) - 1  # gamma2 -> layer 2's; no number: the order they come in
            values = self.norm_start[kind]
            layer = layer if 0 <= layer < len(values) else min(self.norm_done[kind], len(values) - 1)
            value[...] = np.reshape(values[layer], value.shape)
            self.injected.append(base)
            self.norm_done[kind] += 1
            for key, (obj, _) in list(self.seen.items()):  # every name of it: no change seen at the next line
                if obj is value:
                    self.seen[key] = (obj, value.copy())
        if found:
            self.norm_start = None

    def pass_loop(self, stack, line) -> tuple[int, int, int] | None:
        """(frame id, header, last line) of the loop whose pass made the first update: the innermost loop around
        it in which the script bound an array on a line that is not an update (one sample, one mini-batch, one
        epoch), else the outermost loop of the outermost frame that is in one."""
        bound = {r[1] for r in self.records if r[1] is not None and r[1] not in self.updates}
        for f in stack:
            at = line if f is stack[0] else f.f_lineno
            for header, end in self.loops.get(at, []):
                if any(header < b <= end for b in bound):
                    return (id(f), header, end)
        for f in reversed(stack):
            at = line if f is stack[0] else f.f_lineno
            if at in self.loops:
                return (id(f), *self.loops[at][-1])
        return None

    # ---- the end -------------------------------------------------------------------------------------------

    def finish(self, status: str, why: str, **extra) -> None:
        """Write what was seen and end the process at once: nothing more of the script runs."""
        sys.settrace(None)
        self.finishing = True  # the time limit's handler, should it fire now, leaves this result alone
        frame = sys._getframe(1)
        stack = self.stack(frame)
        arrays = {lbl.split("@")[0]: v.copy() for lbl, v in self.namespace(stack)
                  if v.dtype.kind in "fiub" and v.size <= MAX_SIZE}
        scalars = {}
        for f in stack:
            scope = f.f_globals if f.f_code.co_name == "<module>" else f.f_locals
            scalars.update({k: float(v) for k, v in list(scope.items())
                            if isinstance(v, (int, float, np.floating)) and not isinstance(v, bool) and k not in scalars})
        start = self.pass_start.get(self.first[1], 0) if self.first else 0
        payload = {"status": status, "why": why, "changes": sorted(self.changes.values(), key=lambda c: c["tick"]),
                   "records": self.records[start:], "arrays": arrays, "scalars": scalars, "order": self.order,
                   "printed": self.printed, "injected": self.injected, **extra}
        write_result(self.result, payload)
        os._exit(0)


    def time_is_up(self, signum, frame) -> None:
        """SIGALRM's handler: the script's line it was on, as the result; the process ends."""
        if self.finishing:
            return
        sys.settrace(None)
        self.finishing = True
        write_result(self.result, {"status": "time", "why": "the time limit passed", "line": self.line,
                                   "changes": [], "printed": self.printed})
        os._exit(0)


class _Counted:
    """The script's stdout and stderr: what it prints is counted, never shown."""

    def __init__(self, watch: Watch):
        self.watch = watch

    def write(self, text: str) -> int:
        self.watch.printed += text.count("\n")
        return len(text)

    def flush(self) -> None:
        pass


def _refuse_input(watch: Watch):
    def input(prompt=""):
        caller = sys._getframe(1)
        line = caller.f_lineno if caller.f_code.co_filename == watch.path else None
        watch.finish("input", "the script called input()", line=line)
    return input


def _error_at(exc: BaseException, path: str) -> tuple[int | None, dict]:
    """(the script's innermost line in the traceback, {name: shape} of every array that frame and the module hold)."""
    tb, line, frame = exc.__traceback__, None, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            line, frame = tb.tb_lineno, tb.tb_frame
        tb = tb.tb_next
    shapes = {}
    if frame is not None:
        for scope in (frame.f_globals, frame.f_locals):
            shapes.update({k: tuple(v.shape) for k, v in list(scope.items()) if isinstance(v, np.ndarray)})
    return line, shapes


def main(argv: list[str]) -> None:
    script, result, spec_text = argv
    spec = json.loads(spec_text)
    path = str(Path(script).resolve())
    source = Path(path).read_text(encoding="utf-8")
    loops, updates = source_map(ast.parse(source))
    watch = Watch(path, spec, loops, updates, result)
    where = open(result + ".where", "w")  # noqa: SIM115 - faulthandler writes to it, the backstop
    if hasattr(signal, "setitimer"):  # not on Windows: there faulthandler alone, at the time limit itself
        signal.signal(signal.SIGALRM, watch.time_is_up)
        signal.setitimer(signal.ITIMER_REAL, spec["time_limit"])
    faulthandler.dump_traceback_later(spec["time_limit"] + (BACKSTOP if hasattr(signal, "setitimer") else 0),
                                      exit=True, file=where)
    sys.argv, sys.path[0] = [path], str(Path(path).parent)
    sys.stdout = sys.stderr = _Counted(watch)
    builtins.input = _refuse_input(watch)
    code = compile(source, path, "exec")
    scope = {"__name__": "__main__", "__file__": path, "__builtins__": builtins}
    sys.settrace(watch.global_trace)
    try:
        exec(code, scope)  # noqa: S102 - the learner's script, which the learner asked nnparity to run
    except SystemExit:
        watch.finish("ended", "the script called sys.exit()")
    except BaseException as exc:  # noqa: BLE001 - anything the learner's script raises is reported
        line, shapes = _error_at(exc, path)
        watch.finish("error", f"{type(exc).__name__}: {exc}", line=line, shapes=shapes)
    watch.finish("ended", "the script ran to its end")


if __name__ == "__main__":
    main(sys.argv[1:])
