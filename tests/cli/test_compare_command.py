"""``nnparity compare PAIR.py``: the table, the report, --json, --html and the refusals, run in-process."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="nnparity compare needs torch: pip install 'nnparity[torch]'")
pytest.importorskip("keras", reason="nnparity compare needs Keras: pip install 'nnparity[keras]'")

from nnparity.cli import main  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "pairs"


def test_a_correct_pair_exits_0_with_the_table_json_and_html(tmp_path, capsys):
    pytest.importorskip("jinja2", reason="--html needs jinja2: pip install 'nnparity[report]'")
    out_json, out_html = tmp_path / "pair.json", tmp_path / "pair.html"
    code = main(["compare", str(EXAMPLES / "spiral_pair.py"), "--steps", "3", "--json", str(out_json),
                 "--html", str(out_html)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "nnparity compare: torch against Keras" in printed and "the two models agree" in printed
    data = json.loads(out_json.read_text())
    assert (data["status"], data["steps"], data["dtype"], data["first_divergence"]) == ("passed", 3, "float64", None)
    assert set(data["stages"]) == {"forward", "loss", "backward", "gradients", "step", "trajectory"}
    assert "torch" in data["versions"] and data["pair"].endswith("spiral_pair.py")
    page = out_html.read_text()
    assert page.count('data-stage="') == 6 and 'class="fail"' not in page


def test_adam_at_the_defaults_exits_1_naming_the_divergence_and_the_fix(tmp_path, capsys):
    out_json = tmp_path / "adam.json"
    code = main(["compare", str(EXAMPLES / "adam_defaults_pair.py"), "--steps", "2", "--json", str(out_json)])
    printed = capsys.readouterr().out
    assert code == 1
    assert "First divergence in torch vs Keras (float64, 2 steps): W1 after step 1" in printed
    data = json.loads(out_json.read_text())
    assert data["first_divergence"]["quantity"] == "W1 after step 1"
    fix = [e for e in data["explanations"] if e["key"] == "adam-epsilon" and e["fix"]][0]
    assert fix["fix"].startswith("keras.optimizers.Adam(epsilon=1e-08)") and fix["tried"].endswith("agree")


def _pair_file(tmp_path, body: str) -> str:
    path = tmp_path / "pair.py"
    path.write_text(textwrap.dedent(body))
    return str(path)


def test_a_file_without_every_name_is_refused_listing_what_is_missing(tmp_path, capsys):
    code = main(["compare", _pair_file(tmp_path, "import numpy as np\nX = np.zeros((2, 2))\n")])
    err = capsys.readouterr().err
    assert code == 2
    assert "missing: torch_model, keras_model, y, torch_loss, keras_loss, torch_optimizer, keras_optimizer" in err


def test_a_file_that_raises_is_refused_naming_the_line(tmp_path, capsys):
    code = main(["compare", _pair_file(tmp_path, "x = 1\nraise RuntimeError('no data here')\n")])
    err = capsys.readouterr().err
    assert code == 2 and "raised RuntimeError: no data here (line 2 of" in err


def test_models_that_do_not_pair_up_are_refused_with_exit_2(tmp_path, capsys):
    source = (EXAMPLES / "spiral_pair.py").read_text().replace(
        'keras.layers.Dense(16, activation="relu"),', 'keras.layers.Dense(16, activation="relu"), keras.layers.Dense(16),')
    code = main(["compare", _pair_file(tmp_path, source)])
    err = capsys.readouterr().err
    assert code == 2 and "keras layer 1 (Dense" in err and "has no partner in the torch model" in err


# docs/porting.md: each example file, and what nnparity says of it
DOCUMENTED = {
    "batchnorm_defaults_pair.py": (1, "bn1", ["norm-epsilon", "batchnorm-momentum", "batchnorm-running-variance"]),
    "softmax_twice_pair.py": (1, "loss", ["softmax-cross-entropy"]),
    "missing_activation_pair.py": (1, "a2", ["activation"]),
    "gelu_tanh_pair.py": (1, "a1", ["gelu-default", "gelu-float32-constant"]),
    "rmsprop_defaults_pair.py": (1, "W1 after step 1", ["hyper-parameter"] * 3 + ["rmsprop-epsilon"]),
}


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_each_documented_example_says_what_the_porting_page_shows(name, tmp_path, capsys):
    code, quantity, keys = DOCUMENTED[name]
    out_json = tmp_path / "out.json"
    assert main(["compare", str(EXAMPLES / name), "--steps", "2", "--json", str(out_json)]) == code
    data = json.loads(out_json.read_text())
    assert data["first_divergence"]["quantity"] == quantity
    assert [e["key"] for e in data["explanations"]] == keys
    assert all(e["tried"] and e["tried"].endswith("agree") for e in data["explanations"] if e["fix"]) or \
        data["fixes_together"].endswith("agree")


def test_the_extra_layer_example_is_refused(capsys):
    assert main(["compare", str(EXAMPLES / "extra_layer_pair.py")]) == 2
    assert "keras layer 1 (Dense 'extra'), a dense 8 -> 8 (layer with weights number 2)" in capsys.readouterr().err


def test_export_writes_safetensors_and_prints_the_manifest(tmp_path, capsys):
    pytest.importorskip("safetensors", reason="export needs safetensors: pip install 'nnparity[export]'")
    source = (EXAMPLES / "spiral_pair.py").read_text() + "\nmodel = torch_model\noptimizer = torch_optimizer(model.parameters())\n"
    out = tmp_path / "spiral.safetensors"
    assert main(["export", _pair_file(tmp_path, source), "-o", str(out)]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["framework"] == "torch" and manifest["parameters"] == ["W1", "b1", "W2", "b2"] and out.exists()
    assert main(["export", _pair_file(tmp_path, source), "-o", str(tmp_path / "spiral.pt")]) == 2
    assert "a .pt file is a pickle" in capsys.readouterr().err
