"""The project's own promises about itself: CI runs the README's command, the matrix names real envs,
the supported Pythons are said the same way everywhere, and every file a comment or a page cites exists."""

from __future__ import annotations

import ast
import configparser
import pathlib
import re
import subprocess
import sys
import tomllib

from packaging.specifiers import SpecifierSet

ROOT = pathlib.Path(__file__).resolve().parent.parent


def readme_command(name):
    return subprocess.run([sys.executable, str(ROOT / ".ci" / "readme_command.py"), name], capture_output=True,
                          text=True, check=True).stdout.strip()


def test_readme_has_the_two_commands():
    run, test = readme_command("run"), readme_command("test")
    assert "pip install -c constraints.txt" in run and run.endswith("nnparity run")
    assert "pip install -c constraints.txt" in test and "pytest" in test


def test_ci_runs_the_readme_test_command_and_refuses_exit_5():
    script = (ROOT / ".ci" / "run").read_text()
    assert "readme_command.py test" in script
    assert '"$rc" -eq 5' in script


def test_every_tox_env_the_workflow_names_exists():
    tox = configparser.ConfigParser()
    tox.read(ROOT / "tox.ini")
    defined = {s.split(":", 1)[1] for s in tox.sections() if s.startswith("testenv:")}
    workflow = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    named = re.findall(r"toxenv:\s*\[([^\]]*)\]", workflow)  # every job's matrix
    envs = {e.strip() for group in named for e in group.split(",")}
    assert envs and envs <= defined, envs - defined
    assert set(tox["tox"]["envlist"].replace(" ", "").split(",")) <= defined


def test_constraints_pin_the_cpu_torch():
    pins = (ROOT / "constraints.txt").read_text()
    assert re.search(r"^torch==\d", pins, re.M)
    tox = (ROOT / "tox.ini").read_text()
    assert "-c {toxinidir}/constraints.txt" in tox


# --- supported Python versions: one list, said the same way everywhere -----------------------------------

def supported_pythons():
    """The minor versions pyproject's requires-python admits (3.8 to 3.19 tried)."""
    spec = SpecifierSet(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"])
    return [f"3.{minor}" for minor in range(8, 20) if f"3.{minor}.0" in spec]


def versions_in(text):
    return re.findall(r"\b3\.\d+\b", text)


def test_supported_pythons_agree_across_readme_pyproject_constraints_tox_and_workflow():
    supported = supported_pythons()
    assert supported, "requires-python admits no Python 3 version"
    readme = re.search(r"fresh clone with Python ([^(]*)\(", (ROOT / "README.md").read_text())
    assert readme, "the README no longer says which Pythons the two commands start from"
    assert versions_in(readme.group(1)) == supported, (readme.group(1), supported)
    for name in ("constraints.txt", "tox.ini"):
        said = re.search(r"^#.*Python ((?:3\.\d+(?:, | and | or ))*3\.\d+)", (ROOT / name).read_text(), re.M)
        assert said and versions_in(said.group(1)) == supported, (name, said and said.group(1), supported)
    workflow = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    matrix = re.search(r"^\s*python:\s*\[([^\]]*)\]", workflow, re.M)
    assert matrix and versions_in(matrix.group(1)) == supported, (matrix and matrix.group(1), supported)
    singles = set(re.findall(r"python-version:\s*\"(3\.\d+)\"", workflow))
    assert singles <= set(supported), singles - set(supported)


# --- citations: every repository file a comment, docstring or page names exists ----------------------------

CITED_PATH = re.compile(
    r"(?<![\w./-])((?:\.\./)*(?:(?:reference|frameworks|conformance|tests|nnparity|tools|docs|examples|\.ci|"
    r"\.github)/[\w./-]*\w\.(?:py|md|json|txt|toml|ini|yml|j2)|README\.md|pyproject\.toml|constraints\.txt|"
    r"tox\.ini|conftest\.py))(#[\w-]+)?")
MARKDOWN_LINK = re.compile(r"\]\(([^()\s#:]+)(#[\w-]+)?\)")
BARE_PAGE = re.compile(r"(?<![\w./-])([A-Z][A-Z0-9_-]*\.md)\b")  # an upper-case page name, as README.md


def project_files():
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    return [path for path in listed if (ROOT / path).is_file()]


def anchors(page):
    """GitHub's anchors of a Markdown page's headings: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+\s+(.*)$", page.read_text(), re.M)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def citations(path):
    """(line number, cited path relative to the root, anchor or None) of every file `path` names."""
    for number, line in enumerate((ROOT / path).read_text().splitlines(), 1):
        for match in CITED_PATH.finditer(line):
            cited = match.group(1)
            if cited.startswith("../"):
                cited = str(pathlib.PurePosixPath(path).parent / cited)
            yield number, cited, match.group(2)
        if path.endswith(".md"):
            for match in MARKDOWN_LINK.finditer(line):
                yield number, str(pathlib.PurePosixPath(path).parent / match.group(1)), match.group(2)


def test_every_cited_file_and_anchor_exists():
    files = project_files()
    cited_by = [path for path in files if path.endswith((".py", ".md"))]
    dangling = []
    for path in cited_by:
        for number, cited, anchor in citations(path):
            target = (ROOT / cited).resolve()
            if not target.exists():
                dangling.append(f"{path}:{number}: {cited} does not exist")
            elif anchor and target.suffix == ".md" and anchor[1:] not in anchors(target):
                dangling.append(f"{path}:{number}: {cited} has no heading for {anchor}")
    assert not dangling, "dangling citations:\n" + "\n".join(dangling)


def test_every_upper_case_page_named_is_in_the_repository():
    """An upper-case page named bare (a team's notes that never entered the repository) dangles too."""
    files = project_files()
    pages = {pathlib.PurePosixPath(path).name for path in files if path.endswith(".md")}
    missing = [f"{path}:{number}: {name}" for path in files if path.endswith((".py", ".md"))
               for number, line in enumerate((ROOT / path).read_text().splitlines(), 1)
               for name in BARE_PAGE.findall(line) if name not in pages]
    assert not missing, "pages named that are not in the repository:\n" + "\n".join(missing)


# --- proofs: a page's row that names path::test_name names a test that exists ------------------------------

CITED_TEST = re.compile(r"(?<![\w./-])((?:conformance/tests|tests)/[\w/]+\.py)::(\w+)")


def defined_tests(path) -> set[str]:
    return {node.name for node in ast.walk(ast.parse((ROOT / path).read_text()))
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))}


def test_every_cited_test_exists():
    """``path::test_name`` in a page or a module's docstring is a proof; a renamed or deleted test leaves the row
    unproven. (Test files are left out: a test of pytest's node ids writes made-up ones as data.)"""
    missing = []
    for path in project_files():
        if not path.endswith((".py", ".md")) or "/test_" in f"/{path}":
            continue
        for number, line in enumerate((ROOT / path).read_text().splitlines(), 1):
            for cited, name in CITED_TEST.findall(line):
                if not (ROOT / cited).is_file() or name not in defined_tests(cited):
                    missing.append(f"{path}:{number}: {cited}::{name}")
    assert not missing, "cited tests that do not exist:\n" + "\n".join(missing)


def test_every_convention_row_names_its_proof():
    """Each row of a docs/conventions-*.md table links the test that proves it."""
    unproven = [f"{page.name}: {line[:80]}" for page in sorted((ROOT / "docs").glob("conventions-*.md"))
                for line in page.read_text().splitlines()
                if line.startswith("| ") and not line.startswith(("| row ", "| adapter ")) and "::" not in line]
    assert not unproven, "rows without a proving test:\n" + "\n".join(unproven)
