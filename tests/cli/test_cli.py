"""The `nnparity` command: its output, its JSON, its exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conformance.checks import CHECKS
from conformance.lessons import LESSONS
from conformance.optimizer_specs import OPTIMIZER_SPECS
from frameworks import EXTRAS, available_frameworks, missing_reason
from nnparity.cli import COMMANDS, main

RESULT_FIELDS = {"lesson", "framework", "dtype", "check", "passed", "skipped", "max_abs_err", "max_rel_err", "atol",
                 "rtol", "worst", "info", "first_divergence", "known"}
needs_framework = pytest.mark.skipif(not available_frameworks(), reason="no framework installed")


def test_lessons_json_lists_the_catalog(capsys):
    assert main(["lessons", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in listed] == list(LESSONS)
    assert all({"name", "layers", "activations", "loss"} <= set(d) for d in listed)


def test_console_script_is_installed():
    exe = shutil.which("nnparity")
    if exe is None:
        pytest.skip("the nnparity console script is not on PATH (package not installed)")
    out = subprocess.run([exe, "lessons", "--json"], capture_output=True, text=True, check=True).stdout
    assert "spiral" in [d["name"] for d in json.loads(out)]


@needs_framework
def test_run_writes_exactly_the_documented_fields(tmp_path, capsys):
    fw = available_frameworks()[0]
    out = tmp_path / "r.json"
    rc = main(["run", "--lesson", "spiral", "--lesson", "sensor", "--framework", fw, "--check", "all",
               "--json", str(out)])
    assert rc == 0, capsys.readouterr().out
    payload = json.loads(out.read_text())
    assert set(payload) == {"versions", "results"}
    assert "numpy" in payload["versions"]
    results = payload["results"]
    assert len(results) == 2 * 2 * len(CHECKS)  # lessons x dtypes x checks
    for r in results:
        assert set(r) == RESULT_FIELDS
        assert r["passed"] is True and r["skipped"] is None and r["framework"] == fw
        assert r["max_abs_err"] <= (1e-10 if r["dtype"] == "float64" else 1e-5)
    printed = capsys.readouterr().out
    assert f"{len(results)} passed, 0 failed, 0 skipped" in printed
    assert "trained to the end" in printed and "|dW1| / |dW2|" in printed


@needs_framework
def test_run_exits_1_and_reports_a_failure(monkeypatch, tmp_path, capsys):
    from reference import activations

    monkeypatch.setattr(activations.ReLU, "forward", lambda self, z: abs(z))  # a broken reference
    fw = available_frameworks()[0]
    out = tmp_path / "r.json"
    rc = main(["run", "--lesson", "spiral", "--framework", fw, "--dtype", "float64", "--check", "forward",
               "--json", str(out)])
    printed = capsys.readouterr().out
    assert rc == 1
    assert "FAIL forward spiral-" in printed and "Mismatched elements" in printed
    (result,) = json.loads(out.read_text())["results"]
    assert result["passed"] is False and result["worst"] in ("a1", "z2", "a2")


@pytest.mark.parametrize(
    "argv,message",
    [
        (["run", "--lesson", "nope"], "--lesson: unknown 'nope'"),
        (["run", "--dtype", "float16"], "--dtype: unknown 'float16'"),
        (["run", "--framework", "jaxx"], "--framework: unknown 'jaxx'"),
        (["run", "--check", "speed"], "--check: unknown 'speed'"),
        (["run", "--optimizer", "lbfgs"], "--optimizer: unknown 'lbfgs'"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_module_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "nnparity", "lessons", "--json"], capture_output=True, text=True,
                         check=True).stdout
    assert json.loads(out)[0]["name"] == "neuron"


def test_optimizers_json_lists_every_spec_with_explicit_hyperparameters(capsys):
    assert main(["optimizers", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in listed] == list(OPTIMIZER_SPECS)
    assert {"sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad", "nadam", "adamax", "amsgrad",
            "adadelta"} <= {d["name"] for d in listed}
    assert all(d["hyperparameters"]["learning_rate"] > 0 for d in listed)


def test_an_unknown_optimizer_is_refused_listing_every_setting(capsys):
    assert main(["run", "--optimizer", "nadamw"]) == 2
    err = capsys.readouterr().err
    assert "--optimizer: unknown 'nadamw'; expected one of" in err
    assert all(name in err for name in OPTIMIZER_SPECS)


@needs_framework
def test_run_with_the_optimizers_of_adaptive_optimizers(tmp_path, capsys):
    """NAdam, Adamax, AMSGrad and Adadelta (reference/adaptive_optimizers.py) through --optimizer: each
    framework against the reference under its own convention, at the float64 tolerance."""
    fw = available_frameworks()[0]
    out = tmp_path / "r.json"
    named = ["nadam", "adamax", "amsgrad", "adadelta"]
    rc = main(["run", "--lesson", "xor-mse", "--framework", fw, "--dtype", "float64", "--check", "step",
               *[arg for name in named for arg in ("--optimizer", name)], "--json", str(out)])
    assert rc == 0, capsys.readouterr().out
    results = json.loads(out.read_text())["results"]
    assert [r["optimizer"] for r in results] == named
    assert all(r["passed"] and r["max_abs_err"] <= 1e-12 for r in results)


@needs_framework
def test_run_with_an_optimizer_reports_step_and_trajectory(tmp_path, capsys):
    fw = available_frameworks()[0]
    out = tmp_path / "r.json"
    rc = main(["run", "--lesson", "spiral", "--framework", fw, "--dtype", "float64", "--optimizer", "adam",
               "--check", "step", "--check", "trajectory", "--json", str(out)])
    assert rc == 0, capsys.readouterr().out
    results = json.loads(out.read_text())["results"]
    assert [(r["check"], r["optimizer"]) for r in results] == [("step", "adam"), ("trajectory", "adam")]
    assert all(r["passed"] and r["max_abs_err"] <= 1e-10 for r in results)
@needs_framework
def test_a_check_that_does_not_apply_is_skipped_with_its_reason(tmp_path, capsys):
    fw = available_frameworks()[0]
    out = tmp_path / "r.json"
    rc = main(["run", "--lesson", "deep-sigmoid", "--framework", fw, "--dtype", "float64", "--check", "training",
               "--json", str(out)])
    assert rc == 0
    (result,) = json.loads(out.read_text())["results"]
    assert result["passed"] is None and "does not train" in result["skipped"]
    printed = capsys.readouterr().out
    assert "0 passed, 0 failed, 1 skipped" in printed and "does not train" in printed


def test_deep_lessons_fit_a_row_of_the_lessons_table(capsys):
    assert main(["lessons"]) == 0
    printed = capsys.readouterr().out
    assert "2-16x10-1" in printed and "relu x10, sigmoid" in printed


@pytest.mark.skipif(not any(fw in available_frameworks() for fw in ("torch", "keras")),
                    reason="neither torch nor keras is installed (NumPy only): "
                    "test_run_without_torch_or_keras_names_the_extra_that_installs_each runs instead")
def test_run_defaults_to_torch_and_keras_and_names_the_other_installed_backends(tmp_path, capsys):
    """Without --framework: torch and Keras on TensorFlow (the lessons' two frameworks); --framework all adds
    every other installed one, and the default run says which those are."""
    from nnparity.run import DEFAULT_FRAMEWORKS

    assert DEFAULT_FRAMEWORKS == ("torch", "keras")
    out = tmp_path / "r.json"
    installed = available_frameworks()
    assert main(["run", "--lesson", "neuron", "--check", "loss", "--dtype", "float64", "--jobs", "1",
                 "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    ran = [r["framework"] for r in json.loads(out.read_text())["results"]]
    assert ran == [fw for fw in DEFAULT_FRAMEWORKS if fw in installed]
    others = [fw for fw in installed if fw not in DEFAULT_FRAMEWORKS]
    if others:
        assert f"also installed: {', '.join(others)}" in printed and "--framework all" in printed


@pytest.mark.skipif(any(missing_reason(fw) is None for fw in ("torch", "keras")),
                    reason="torch or keras is installed: the default run has a framework to compare against")
def test_run_without_torch_or_keras_names_the_extra_that_installs_each(capsys):
    """NumPy only (tox's `reference`): the default run exits 2, and says for torch and for Keras the pip
    extra that installs it (the whole hint: rich must not read "[torch]" as a style tag)."""
    assert main(["run", "--lesson", "neuron", "--check", "loss", "--dtype", "float64", "--jobs", "1"]) == 2
    printed = capsys.readouterr()
    assert "no framework to compare against is installed: pip install 'nnparity[all]'" in printed.err
    for fw in ("torch", "keras"):
        assert f"skipped {fw}: {missing_reason(fw)}" in printed.out, printed.out
        assert f"pip install 'nnparity[{EXTRAS[fw]}]'" in printed.out, printed.out


@needs_framework
def test_run_leaves_whole_training_runs_to_check_all_and_says_so(tmp_path, capsys):
    """The default run is every step-level check (seconds); `training` (each lesson trained to its end,
    about half a minute for the catalog) is named as not run, and `--check all` runs it too."""
    from conformance.checks import CHECKS

    fw = available_frameworks()[0]
    out = tmp_path / "r.json"
    base = ["run", "--lesson", "neuron", "--framework", fw, "--dtype", "float32", "--json", str(out)]
    assert main(base) == 0
    ran = [r["check"] for r in json.loads(out.read_text())["results"]]
    assert ran == [c for c in CHECKS if c != "training"]
    printed = capsys.readouterr().out
    assert "not run: training" in printed and "add --check all" in printed
    assert main(base + ["--check", "all"]) == 0
    printed = capsys.readouterr().out
    assert [r["check"] for r in json.loads(out.read_text())["results"]] == list(CHECKS)
    assert "not run:" not in printed


def test_the_command_exits_with_main_s_status_and_its_output_complete():
    """`python -m nnparity` ends without the interpreter's teardown (cli.exit_now): its status and every
    line it wrote still arrive, on stdout and on stderr."""
    bad = subprocess.run([sys.executable, "-m", "nnparity", "run", "--lesson", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--lesson: unknown 'nope'" in bad.stderr
    good = subprocess.run([sys.executable, "-m", "nnparity", "optimizers", "--json"], capture_output=True, text=True)
    assert good.returncode == 0 and [d["name"] for d in json.loads(good.stdout)] == list(OPTIMIZER_SPECS)


# Every option that names a file to write: (argv before the option, the option, what must not run before
# the check, as "module:attribute"). A file that cannot be written is refused first, not after the work.
OUTPUT_OPTIONS = [
    (["run", "--lesson", "neuron"], "--json", "nnparity.run:run_matrix"),
    (["bench", "--lesson", "neuron"], "--json", "nnparity.bench:run_bench"),
    (["bench", "--lesson", "neuron"], "--markdown", "nnparity.bench:run_bench"),
    (["check", "examples/learners/correct_update.py:MLP", "--lesson", "neuron"], "--json",
     "nnparity.learner.check:check_learner"),
    (["plot", "neuron"], "-o", "nnparity.figures:plot_lesson"),
    (["report", "--lesson", "neuron"], "-o", "nnparity.report:run_matrix"),
    (["report", "--lesson", "neuron"], "-o", "nnparity.report:matrix_of"),
    (["compare", "examples/pairs/spiral_pair.py"], "--json", "nnparity.compare:load_pair"),
    (["compare", "examples/pairs/spiral_pair.py"], "--html", "nnparity.compare:load_pair"),
]


def _forbid(monkeypatch, target):
    module, name = target.split(":")

    def must_not_run(*args, **kwargs):
        raise AssertionError(f"{target} ran before the output file was checked")

    monkeypatch.setattr(f"{module}.{name}", must_not_run)


@pytest.mark.parametrize("argv,option,work", OUTPUT_OPTIONS, ids=lambda v: v if isinstance(v, str) else v[0])
@pytest.mark.parametrize("where,message", [("missing folder", "the folder {folder} does not exist"),
                                           ("a folder", "is a folder; expected a file name")])
def test_an_output_file_that_cannot_be_written_is_refused_before_any_work(argv, option, work, where, message,
                                                                          tmp_path, monkeypatch, capsys):
    _forbid(monkeypatch, work)
    folder = tmp_path / "nosuch"
    path = folder / "out.txt" if where == "missing folder" else tmp_path
    assert main([*argv, option, str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{option} {path}: " + message.format(folder=folder) in err, err


def test_an_output_file_that_fails_while_written_names_the_option_and_the_error():
    from nnparity.common import UsageError, output_file, write_output

    if not os.path.exists("/dev/full"):  # Linux's always-full device: every write fails with ENOSPC
        pytest.skip("no /dev/full here")
    output_file("/dev/full", "--json")  # its folder exists and is writable: accepted up front
    with pytest.raises(UsageError, match=r"^--json /dev/full: cannot write it: No space left on device$"):
        write_output("/dev/full", "--json", "{}" * 100_000)


def test_help_lists_every_command_with_its_help_line(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    listed = " ".join(capsys.readouterr().out.split())  # argparse wraps the help lines
    for name, (_, help_line) in COMMANDS.items():
        assert f"{name} {help_line}" in listed, name


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_s_options_come_from_its_module(name, capsys):
    with pytest.raises(SystemExit):
        main([name, "--help"])
    shown = capsys.readouterr().out
    assert shown.startswith(f"usage: nnparity {name}") and shown.count("--") > 1, shown  # options beyond --help


def test_a_command_imports_its_module_only():
    """`nnparity check` loads check's module, not run's (the matrix), report's, bench's, compare's, ..."""
    code = ("import sys; from nnparity.cli import build_parser; build_parser('check'); "
            "print(' '.join(sorted(m for m in sys.modules if m.startswith(('nnparity', 'conformance')))))")
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    assert "nnparity.learner.check" in loaded
    others = {where.split(":")[0] for name, (where, _) in COMMANDS.items() if name != "check"}
    assert not {f"nnparity{m}" for m in others} & loaded, sorted(loaded)
    assert "conformance.matrix" not in loaded
