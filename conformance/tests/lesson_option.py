"""pytest's ``--nnparity-lessons PATH`` (a plugin of the root conftest.py): a user's lesson files.

The files' lessons (conformance/lesson_files.py, docs/lesson-files.md) join the catalog for the
session, in every pytest process (each xdist worker too), and leave it at the end; the conformance
cases then run on them unless ``--lesson`` names others (conftest.py here). A file that cannot be
used is pytest's usage error, with the file, the lesson, the field and what was received.
"""

from __future__ import annotations

import pytest

from conformance.lesson_files import LessonFileError, add_lesson_files, remove_lessons


def pytest_addoption(parser):
    parser.getgroup("nnparity").addoption(
        "--nnparity-lessons", action="append", default=None, metavar="PATH",
        help="your own lessons (a .py or .toml lesson file, docs/lesson-files.md): they join the catalog, and "
        "the conformance cases run on them unless --lesson says otherwise (repeatable)",
    )


def pytest_configure(config):
    try:
        config.nnparity_lessons = add_lesson_files(config.getoption("nnparity_lessons") or ())
    except LessonFileError as exc:
        raise pytest.UsageError(f"--nnparity-lessons {exc}") from None


def pytest_unconfigure(config):
    remove_lessons(getattr(config, "nnparity_lessons", ()))
