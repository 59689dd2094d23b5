"""`python -m pyapp FILE...` as a user runs it: a subprocess, its stdout lines, stderr and exit status."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.helpers import MODEL, ROOT, blank, number_pad

needs_model = pytest.mark.skipif(not MODEL.exists(), reason="model/digits.onnx not trained yet")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pyapp", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("images")
    paths = {
        "number": folder / "number 2017.png",
        "empty": folder / "empty.png",
        "junk": folder / "junk.png",
        "zero": folder / "zero-bytes.jpg",
    }
    Image.fromarray(number_pad([2, 0, 1, 7], height=300)).save(paths["number"])
    Image.fromarray(blank(200, 200)).save(paths["empty"])
    paths["junk"].write_bytes(b"definitely not a PNG")
    paths["zero"].write_bytes(b"")
    return {key: str(path) for key, path in paths.items()}


@needs_model
def test_one_line_per_file_with_a_tab(files: dict[str, str]) -> None:
    result = run(files["number"], files["empty"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"{files['number']}\t2017", f"{files['empty']}\t"]
    assert result.stderr == ""


@needs_model
def test_bad_files_get_one_stderr_line_each_and_the_rest_are_read(files: dict[str, str]) -> None:
    missing = files["number"] + ".missing"
    result = run(files["junk"], files["number"], missing, files["zero"])
    assert result.returncode == 1
    assert result.stdout.splitlines() == [f"{files['number']}\t2017"]
    errors = result.stderr.splitlines()
    assert len(errors) == 3 and "Traceback" not in result.stderr
    assert errors[0].startswith(f"{files['junk']}: ") and errors[1].startswith(f"{missing}: ")
    assert errors[2] == f"{files['zero']}: the file is empty"


@needs_model
def test_verbose_and_probabilities_columns(files: dict[str, str]) -> None:
    result = run("--verbose", "--probabilities", files["empty"], files["number"])
    empty, number = result.stdout.splitlines()
    assert empty.split("\t") == [files["empty"], "", "Draw a digit", ""]
    name, text, hint, probabilities = number.split("\t")
    assert (name, text, hint) == (files["number"], "2017", "")
    assert len(probabilities.split()) == 4 and all(0.0 <= float(p) <= 1.0 for p in probabilities.split())


def test_usage_errors_exit_2() -> None:
    assert run().returncode == 2
    assert run("--no-such-flag", "x.png").returncode == 2


def test_missing_model_is_one_clear_line(files: dict[str, str], tmp_path) -> None:
    result = run("--model", str(tmp_path / "none.onnx"), files["number"])
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "model file not found" in result.stderr


def test_help() -> None:
    result = run("--help")
    assert result.returncode == 0 and "FILE" in result.stdout


def test_main_in_process(files: dict[str, str], capsys) -> None:
    from pyapp.cli import main

    assert main(["--model", "/nonexistent/model.onnx", files["empty"]]) == 1
    assert "model file not found" in capsys.readouterr().err


@needs_model
def test_image_of_light_ink_on_dark(tmp_path) -> None:
    pad = number_pad([4, 1], height=300)
    pad[..., :3] = 255 - pad[..., :3]
    path = tmp_path / "dark.png"
    Image.fromarray(pad).save(path)
    assert run(str(path)).stdout == f"{path}\t41\n"
    assert np.asarray(Image.open(path)).mean() < 128  # really light-on-dark
