"""The programs of a lesson trained with NAdam, Adamax, AMSGrad or Adadelta (``nnparity/programs/adaptive_optimizers.py``):
written with the same numbers in all three, standing alone, and training as the reference does under each framework's
convention (the training check's float64 tolerance), on a full-batch lesson and a mini-batch one of three layers.

No lesson of the catalog uses these optimizers, so each is put in place of the optimizer of ``xor-relu`` (2-4-1,
full batch) and ``keras-4-64-32-1`` (batches of 32).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from conformance.lessons import get_lesson
from frameworks import unavailable_reason
from nnparity.programs import not_generated, programs

from test_program_text import ALLOWED_IMPORTS, imported
from test_programs_train import CUT, agreement, run_programs

ADAM = (("beta_1", 0.9), ("beta_2", 0.999), ("epsilon", 1e-7))
# The Adam family at keras-4-64-32-1's own learning rate: at 0.01 its ReLU units cross their kinks in runs that
# differ by rounding alone, and NAdam's and AMSGrad's NumPy programs ended 1.2 and 0.74 from the reference after the
# lesson's 100 epochs (measured; Adamax's 9e-12), while at 0.001 every run meets the training tolerance.
LEARNING_RATES = {"xor-relu": 0.01, "keras-4-64-32-1": 0.001}
HYPER = {
    "nadam": (*ADAM, ("momentum_decay", 1.0)),
    "adamax": ADAM,
    "amsgrad": ADAM,
    "adadelta": (("rho", 0.95), ("epsilon", 1e-6)),
}
BASES = ("xor-relu", "keras-4-64-32-1")
LESSONS = {f"{base}-{optimizer}": replace(
    get_lesson(base), name=f"{base}-{optimizer}", optimizer=optimizer,
    hyper=(("learning_rate", 1.0 if optimizer == "adadelta" else LEARNING_RATES[base]), *hyper))
    for base in BASES for optimizer, hyper in HYPER.items()}


def epochs(framework: str, lesson) -> int:
    """The NumPy programs run to the lesson's end (xor-relu's 5000 epochs: seconds), the frameworks' CUT epochs."""
    return lesson.epochs if framework == "numpy" else CUT


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """framework -> lesson name -> what its program saved (all of a framework's programs in one process)."""
    done = {}

    def of(framework):
        if framework not in done:
            texts = {name: (programs(lesson)[framework].text, epochs(framework, lesson))
                     for name, lesson in LESSONS.items()}
            done[framework] = run_programs(tmp_path_factory.mktemp(framework), texts)
        return done[framework]
    return of


@pytest.mark.parametrize("name", list(LESSONS))
def test_the_programs_are_written_and_stand_alone(name):
    lesson = LESSONS[name]
    assert not_generated(lesson) is None
    for framework, program in programs(lesson).items():
        assert imported(program.text) <= ALLOWED_IMPORTS[framework], program.filename
        assert max(len(line) for line in program.text.splitlines()) <= 79, program.filename
        hyper = program.step("optimizer")
        assert all(repr(float(value)) in hyper for key, value in lesson.hyper
                   if not (framework == "keras" and key == "momentum_decay")), (program.filename, hyper)


@pytest.mark.parametrize("framework", ["numpy", "torch", "keras"])
@pytest.mark.parametrize("name", list(LESSONS))
def test_the_program_trains_as_the_reference(runs, name, framework):
    if framework != "numpy" and unavailable_reason(framework):
        pytest.skip(unavailable_reason(framework))
    lesson = LESSONS[name]
    saved = runs(framework)[name]
    assert not isinstance(saved, str), f"{name}'s {framework} program failed:\n{saved}"
    result = agreement(lesson, framework, saved, epochs(framework, lesson))
    assert result.passed, result.message()


def test_a_nadam_program_keeping_torch_s_product_in_float64_parts_from_torch(tmp_path):
    """Teeth: the NumPy program without the float32 rounding of the momentum product that torch does
    (its default dtype) ends measurably away from the reference's torch convention."""
    lesson = LESSONS["keras-4-64-32-1-nadam"]
    text = programs(lesson)["numpy"].text
    rounded = "product = float(np.float32(product) * np.float32(mu_t))"
    assert text.count(rounded) == 1
    saved = run_programs(tmp_path, {"p": (text.replace(rounded, "product *= mu_t"), CUT)})["p"]
    assert not isinstance(saved, str), saved
    assert not agreement(lesson, "numpy", saved, CUT).passed


def test_a_nadam_torch_program_that_keeps_float64_as_its_default_dtype_parts_from_torch_s_twin(tmp_path):
    """Teeth: without setting float32 back as the default dtype, torch's NAdam keeps its momentum product in float64,
    unlike the torch twin (and the reference's torch convention): the PyTorch program then ends away from it."""
    if unavailable_reason("torch"):
        pytest.skip(unavailable_reason("torch"))
    lesson = LESSONS["keras-4-64-32-1-nadam"]
    text = programs(lesson)["torch"].text
    line = "torch.set_default_dtype(torch.float32)\n"
    assert text.count(line) == 1
    saved = run_programs(tmp_path, {"p": (text.replace(line, ""), CUT)})["p"]
    assert not isinstance(saved, str), saved
    assert not agreement(lesson, "torch", saved, CUT).passed
