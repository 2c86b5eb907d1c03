"""``nnparity report``: one self-contained HTML file, checked as text and as a real browser renders it.

The browser test runs headless Chromium (Debian packages ``chromium`` and
``chromium-driver``) on the file, reads the DOM after the page loaded, and
takes a screenshot (its path is printed, to look at). Without Chromium it is
skipped, saying so.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import replace

import pytest

from conformance.cases import DTYPES
from conformance.checks import CHECKS, REGISTRY
from conformance.checks.training import missing_optimizer
from conformance.lessons import LESSONS, get_lesson
from frameworks import available_frameworks, twin_class, unavailable_reason
from nnparity.cli import main
from nnparity.programs import TITLES, not_generated, programs
from nnparity.sources import COLUMNS, SECTIONS, lesson_code

bs4 = pytest.importorskip("bs4", reason="beautifulsoup4 reads the report's DOM: pip install 'nnparity[dev]'")
pytest.importorskip("jinja2", reason="the report needs nnparity[report]")
pytest.importorskip("matplotlib", reason="the report's plots need nnparity[report]")

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars")


def soup(html: str):
    return bs4.BeautifulSoup(html, "html.parser")


# The report's lessons here: a part of the catalog that takes seconds, not the minute and a half of the whole
# matrix, and still has a cell of every kind: checks that pass, checks that do not apply (deep-sigmoid does not
# train: grey cells with the reason, and no training plot) and whole training runs (neuron, perceptron-and).
REPORT_LESSONS = ("neuron", "perceptron-and", "deep-sigmoid")


@pytest.fixture(scope="module")
def full_report(tmp_path_factory):
    """``nnparity report -o report.html`` over ``REPORT_LESSONS``, every installed framework, both dtypes."""
    if not available_frameworks():
        pytest.skip("no framework installed to report on")
    path = tmp_path_factory.mktemp("report") / "report.html"
    assert main(["report", "-o", str(path), *(arg for lesson in REPORT_LESSONS for arg in ("--lesson", lesson))]) == 0
    return path


def chromium():
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("headless Chromium is not installed (Debian: apt-get install -y chromium chromium-driver)")


def run_chromium(*args, timeout=120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout)


# ---- as text -------------------------------------------------------------------------


def test_report_is_self_contained(full_report):
    page = soup(full_report.read_text())
    for tag in page.find_all(["img", "script", "link", "iframe", "source", "video", "audio"]):
        for attr in ("src", "href"):
            value = tag.get(attr)
            assert value is None or value.startswith("data:") or value.startswith("#"), (tag.name, value[:80])
    assert not page.find_all("link", rel="stylesheet")
    images = page.find_all("img")
    assert images and all(img["src"].startswith("data:image/png;base64,") for img in images)
    for a in page.find_all("a", href=True):
        assert a["href"].startswith("#"), a["href"]  # every link stays in the page
        assert page.find(id=a["href"][1:]), f"link to a missing section {a['href']}"


def test_report_scoreboard_covers_the_matrix(full_report):
    page = soup(full_report.read_text())
    rows = page.select("#scoreboard-table tbody tr")
    frameworks = available_frameworks()
    assert len(rows) == len(REPORT_LESSONS) * len(frameworks) * len(DTYPES)
    assert [row["data-case"] for row in rows] == [  # in the order of `nnparity run`
        f"{lesson}-{fw}-{dt}" for lesson in REPORT_LESSONS for fw in frameworks for dt in DTYPES
    ]
    lesson_of = {f"{lesson}-{fw}-{dt}": lesson for lesson in REPORT_LESSONS for fw in frameworks for dt in DTYPES}
    n_skipped = 0
    for row in rows:
        cells = row.select("td[data-check]")
        assert [c["data-check"] for c in cells] == list(CHECKS)
        lesson = get_lesson(lesson_of[row["data-case"]])
        for c in cells:
            why_not = REGISTRY[c["data-check"]].applies
            if why_not(lesson):  # a check that does not apply: a grey cell with the reason
                assert "skip" in c["class"] and c.get_text().startswith("skip") and why_not(lesson) in c["title"]
                n_skipped += 1
            else:
                assert "ok" in c["class"] and c.get_text().startswith("ok "), (row["data-case"], c["data-check"])
    summary = " ".join(page.select_one("#summary").get_text().split())
    assert n_skipped == len(frameworks) * len(DTYPES)  # deep-sigmoid's training check, in every case of it
    assert summary.startswith(f"{len(rows) * len(CHECKS) - n_skipped} passed, 0 failed, {n_skipped} skipped")


def test_report_failing_case_is_red_and_localized(tmp_path, monkeypatch):
    """A broken twin: its cells are red and the page says where it diverges."""
    if unavailable_reason("torch"):
        pytest.skip(unavailable_reason("torch"))
    import torch.nn.functional as F

    import conformance.cases
    import conformance.divergence

    twin = twin_class("torch")(get_lesson("spiral"), "float64")
    twin.loss_fn = lambda z, a, y: F.binary_cross_entropy(a, y, reduction="sum")  # sum, not mean
    monkeypatch.setattr(conformance.cases, "get_twin", lambda *a: twin)
    monkeypatch.setattr(conformance.divergence, "get_twin", lambda *a: twin)
    path = tmp_path / "broken.html"
    code = main(["report", "-o", str(path), "--lesson", "spiral", "--framework", "torch",
                 "--dtype", "float64", "--no-plots"])
    assert code == 1
    page = soup(path.read_text())
    cells = {c["data-check"]: c for c in page.select('tr[data-case="spiral-torch-float64"] td[data-check]')}
    assert "ok" in cells["forward"]["class"]  # the forward pass is right
    for check in ("loss", "gradients", "step"):
        assert "fail" in cells[check]["class"] and cells[check].get_text().startswith("FAIL")
    divergence = page.select_one("pre.divergence").get_text()
    assert divergence.startswith("First divergence in spiral-torch-float64: loss")
    assert not page.find_all("img")


def test_report_refuses_a_missing_folder_before_running(tmp_path, capsys):
    code = main(["report", "-o", str(tmp_path / "nosuch" / "report.html")])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


def test_report_names_a_missing_dependency(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "jinja2" else real(name, *a))
    assert main(["report", "-o", "unused.html"]) == 2
    assert "the report needs jinja2: pip install 'nnparity[report]'" in capsys.readouterr().err


def test_report_refuses_an_unknown_lesson(capsys):
    assert main(["report", "--lesson", "nosuch"]) == 2
    assert "--lesson: unknown 'nosuch'" in capsys.readouterr().err


# ---- in a real browser -----------------------------------------------------------------


def test_report_renders_every_lesson_in_chromium(full_report, tmp_path):
    result = run_chromium("--dump-dom", full_report.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    dom = soup(result.stdout)

    body = dom.body
    n_images = len(dom.find_all("img"))
    trainable = sum(1 for name in REPORT_LESSONS if not missing_optimizer(get_lesson(name)))
    assert n_images == len(REPORT_LESSONS) + trainable  # an agreement plot per lesson, a training plot if it trains
    assert body["data-images"] == body["data-images-decoded"] == str(n_images), "an image did not decode"

    sections = dom.select("section.lesson")
    assert [s["data-lesson"] for s in sections] == list(REPORT_LESSONS)
    for section in sections:
        code = lesson_code(get_lesson(section["data-lesson"]))
        blocks = section.select("div.code-section")
        assert [b["data-section"] for b in blocks] == list(SECTIONS)
        for block in blocks:
            columns = block.select("div.column")
            assert [c["data-column"] for c in columns] == list(COLUMNS)
            for column in columns:
                snippets = code[block["data-section"]][column["data-column"]].snippets
                rendered = [pre.get_text() for pre in column.select("div.hl pre")]
                # the browser shows exactly the source text (nothing lost to HTML escaping)
                assert [text.rstrip("\n") for text in rendered] == [s.shown for s in snippets]

    assert len(dom.select("#conventions-table tbody tr")) >= 10
    versions = {th.get_text(): td.get_text() for th, td in
                (row.find_all(["th", "td"]) for row in dom.select("#versions-table tr"))}
    assert "numpy" in versions and "python" in versions

    shot = tmp_path / "report.png"
    result = run_chromium("--window-size=1400,1800", f"--screenshot={shot}", full_report.as_uri())
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[:2] == (1800, 1400)
    assert pixels.std() > 0.05, "the screenshot is blank"
    print(f"screenshot of the report: {shot}")


@pytest.mark.parametrize("fragment, chosen", [(None, None), ("program-neuron-torch", "torch"),
                                              ("program-perceptron-and-keras", "keras")])
def test_report_program_tabs_switch_in_chromium(full_report, fragment, chosen):
    """Each lesson's three programs are tabs: the NumPy one shows first; the address of a tab (its link's
    #fragment, which a click on the tab also sets) shows that program alone and marks its tab selected."""
    result = run_chromium("--dump-dom", full_report.as_uri() + (f"#{fragment}" if fragment else ""))
    assert result.returncode == 0, result.stderr[-2000:]
    sections = soup(result.stdout).select("section.lesson")
    assert [s["data-lesson"] for s in sections] == list(REPORT_LESSONS)
    for section in sections:
        lesson = get_lesson(section["data-lesson"])
        assert not not_generated(lesson)  # every lesson here has programs (the refusal: the next test)
        shown = chosen if fragment and fragment.startswith(f"program-{lesson.name}-") else "numpy"
        panels = {panel["data-framework"]: panel for panel in section.select("div.program")}
        assert list(panels) == list(TITLES)
        assert [key for key, panel in panels.items() if not panel.has_attr("hidden")] == [shown]
        assert {tab["data-framework"]: tab["aria-selected"] for tab in section.select("a.tab")} == {
            key: "true" if key == shown else "false" for key in TITLES}
        for key, program in programs(lesson).items():  # each tab holds its whole program, as the file has it
            assert panels[key].select_one("div.hl pre").get_text().rstrip("\n") == program.text.rstrip("\n")


def test_a_lesson_without_programs_says_why_in_place_of_the_tabs(monkeypatch):
    from nnparity.report import Matrix, render

    # every lesson of the catalog has its programs; one with dropout and mini-batches has none yet
    lesson = replace(LESSONS["spiral-dropout"], name="dropout-batches", batch_size=32)
    monkeypatch.setitem(LESSONS, lesson.name, lesson)
    page = soup(render(Matrix([], {}, {}), [lesson.name], [], plots=False))
    section = page.select_one('section.lesson[data-lesson="dropout-batches"]')
    assert "no programs yet: dropout with mini-batches" in not_generated(lesson)
    assert section.select_one(".programs-note").get_text() == not_generated(lesson)
    assert not section.select("div.program") and section.select("details.internals div.code-section")


def test_json_of_run_and_report_agree_on_the_matrix(full_report, tmp_path):
    """The report's scoreboard and ``nnparity run --json`` give the same verdicts."""
    from frameworks import unavailable_reason

    out = tmp_path / "run.json"
    # The report runs in this process; `nnparity run` also starts a worker per other Keras
    # backend (keras-jax, keras-torch), which the report does not: compare the frameworks both cover.
    in_process = [arg for fw in ("torch", "keras") if unavailable_reason(fw) is None for arg in ("--framework", fw)]
    assert main(["run", "--lesson", REPORT_LESSONS[0], *in_process, "--json", str(out)]) == 0
    page = soup(full_report.read_text())
    for r in json.loads(out.read_text())["results"]:
        case = f"{r['lesson']}-{r['framework']}-{r['dtype']}"
        cell = page.select_one(f'tr[data-case="{case}"] td[data-check="{r["check"]}"]')
        assert ("ok" in cell["class"]) == r["passed"]
        assert cell.get_text().split()[1] == f"{r['max_abs_err']:.1e}"
