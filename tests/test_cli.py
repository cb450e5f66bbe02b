"""The ``l3-kedro`` command line, run in-process through ``main(argv)``."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from l3_kedro import commands as cli
from l3_kedro.errors import OutputError
from tests.api_fixtures import FSDD_FILES, US8K_FILES, save_tiny_checkpoint, write_broken


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    """A tiny (width 0.125) mel256 checkpoint."""
    return save_tiny_checkpoint(tmp_path_factory.mktemp("cli_weights"))


@pytest.fixture
def tree(tmp_path) -> Path:
    """A folder of real audio: two clips at the top, one in a sub-folder, a text file."""
    root = tmp_path / "audio"
    (root / "sub").mkdir(parents=True)
    shutil.copy(US8K_FILES[0], root / "street.flac")
    shutil.copy(FSDD_FILES[1], root / "digit.WAV")
    shutil.copy(FSDD_FILES[2], root / "sub" / "digit2.wav")
    (root / "notes.txt").write_text("not audio")
    return root


def embed_args(weights: Path, *extra: str) -> list[str]:
    return ["embed", "--weights", str(weights), "--embedding-size", "512", "-t", "0.5", *extra]


def assert_one_line_error(err: str, *fragments: str) -> None:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if "error" in line]
    assert lines, err
    for fragment in fragments:
        assert any(fragment in line for line in lines), err


def test_parse_args_defaults():
    args = cli.parse_args(["embed", "a.wav", "b"])
    assert args.command == "embed"
    assert args.paths == [Path("a.wav"), Path("b")]
    assert (args.input_repr, args.embedding_size, args.hop_size) == ("mel256", 6144, 0.1)
    assert (args.no_centering, args.batch_size, args.weights) == (False, 32, None)
    assert (args.output_dir, args.suffix, args.overwrite, args.quiet) == (None, None, False, False)
    assert (args.mode, args.precision) == ("exact", "float32")


def embed_street_with(weights, tree, tmp_path, option: str, values: tuple[str, ...]) -> list[dict]:
    """Embed the street clip once per value of ``option``; the saved arrays of each run."""
    saved = []
    for value in values:
        argv = embed_args(weights, str(tree / "street.flac"), "-o", str(tmp_path / value), "-q")
        assert cli.main([*argv, option, value]) == 0
        with np.load(tmp_path / value / "street.npz") as arrays:
            saved.append(dict(arrays))
    return saved


def test_fast_mode_writes_the_same_windows(weights, tree, tmp_path):
    exact, fast = embed_street_with(weights, tree, tmp_path, "--mode", ("exact", "fast"))
    np.testing.assert_array_equal(fast["timestamps"], exact["timestamps"])
    assert fast["embedding"].shape == exact["embedding"].shape
    assert not np.array_equal(fast["embedding"], exact["embedding"])


def test_bfloat16_precision_writes_the_same_windows_with_close_numbers(weights, tree, tmp_path):
    full, half = embed_street_with(weights, tree, tmp_path, "--precision", ("float32", "bfloat16"))
    np.testing.assert_array_equal(half["timestamps"], full["timestamps"])
    assert half["embedding"].dtype == np.float32
    assert not np.array_equal(half["embedding"], full["embedding"])
    a, b = half["embedding"], full["embedding"]
    assert np.abs(a - b).mean() < 0.02 * np.abs(b).mean()  # bfloat16 keeps ~3 digits


def test_embed_a_folder_recursively_mirroring_it(weights, tree, tmp_path, capsys):
    out = tmp_path / "out"
    argv = embed_args(weights, str(tree), "--output-dir", str(out), "--suffix", "_l3", "--quiet")
    assert cli.main(argv) == 0
    outputs = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.npz"))
    assert outputs == ["digit_l3.npz", "street_l3.npz", "sub/digit2_l3.npz"]
    with np.load(out / "street_l3.npz") as saved:
        assert saved["embedding"].shape == (len(saved["timestamps"]), 64)
        np.testing.assert_allclose(saved["timestamps"], np.arange(8) * 0.5)
    assert capsys.readouterr().err == ""


def test_outputs_next_to_inputs_then_skip_then_overwrite(weights, tree, capsys):
    file = tree / "street.flac"
    assert cli.main(embed_args(weights, str(file), "--no-centering", "-b", "3")) == 0
    output = tree / "street.npz"
    with np.load(output) as saved:
        np.testing.assert_allclose(saved["timestamps"], np.arange(7) * 0.5)
    assert "wrote 1 embedding file(s)" in capsys.readouterr().err
    assert cli.main(embed_args(weights, str(file))) == 0
    assert "1 already existed" in capsys.readouterr().err
    assert cli.main(embed_args(weights, str(file), "--overwrite")) == 0
    assert "wrote 1 embedding file(s)." in capsys.readouterr().err


def test_an_unreadable_file_is_reported_after_the_others(weights, tree, tmp_path, capsys):
    write_broken(tree / "broken.wav")
    out = tmp_path / "out"
    assert cli.main(embed_args(weights, str(tree), "-o", str(out), "-q")) == 1
    assert sorted(p.name for p in out.rglob("*.npz")) == ["digit.npz", "digit2.npz", "street.npz"]
    assert_one_line_error(capsys.readouterr().err, "broken.wav", "1 of 4 file(s)")


def test_a_missing_path_fails_before_loading_anything(weights, tmp_path, capsys):
    assert cli.main(embed_args(weights, str(tmp_path / "nowhere.wav"))) == 1
    assert_one_line_error(capsys.readouterr().err, "nowhere.wav: no such file or folder")


def test_a_folder_without_audio_fails(weights, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("x")
    assert cli.main(embed_args(weights, str(tmp_path))) == 1
    assert_one_line_error(capsys.readouterr().err, "no audio or video files")


def test_bad_weights_fail_with_a_message(weights, tree, tmp_path, capsys):
    assert cli.main(["embed", str(tree), "--weights", str(tmp_path / "x.keras")]) == 1
    assert_one_line_error(capsys.readouterr().err, "x.keras", "not found")
    argv = ["embed", str(tree), "--weights", str(weights), "--input-repr", "linear"]
    assert cli.main(argv) == 1
    assert_one_line_error(capsys.readouterr().err, "pass input_repr='mel256'")


@pytest.mark.parametrize(
    ("option", "fragment"),
    [
        (["--hop-size", "-1"], "--hop-size"),
        (["--hop-size", "abc"], "--hop-size"),
        (["--batch-size", "0"], "--batch-size"),
        (["--input-repr", "cqt"], "--input-repr"),
        (["--embedding-size", "100"], "--embedding-size"),
        (["--hop-size", "1e-9"], "hop_size"),
    ],
)
def test_bad_option_values_exit_non_zero_with_one_line(weights, tree, capsys, option, fragment):
    code = cli.main(["embed", str(tree), "--weights", str(weights), *option])
    assert code != 0
    err = capsys.readouterr().err
    assert_one_line_error(err, fragment)
    assert len(err.strip().splitlines()) == 1


def test_no_command_or_no_path_is_a_usage_error(capsys):
    assert cli.main([]) == 2
    assert_one_line_error(capsys.readouterr().err, "COMMAND")
    assert cli.main(["embed"]) == 2
    assert_one_line_error(capsys.readouterr().err, "PATH")


@pytest.fixture
def no_model(monkeypatch):
    """Fail the test if the command gets as far as loading a model."""
    from l3_kedro import api

    def refuse(**kwargs):
        raise AssertionError("the model was loaded before the output folder was checked")

    monkeypatch.setattr(api, "load_audio_embedding_model", refuse)


@pytest.mark.parametrize("kind", ["a file", "unwritable"])
def test_a_bad_output_folder_is_one_line_before_the_model_loads(
    tree, tmp_path, capsys, no_model, kind
):
    if kind == "a file":
        output = tmp_path / "existing.npz"
        output.write_text("")
        expected = "is a file, not a folder"
    else:
        output = Path("/proc/nope")
        expected = "cannot write to the output folder /proc/nope"
    assert cli.main(["embed", str(tree / "street.flac"), "-o", str(output)]) == 1
    err = capsys.readouterr().err
    assert_one_line_error(err, expected)
    assert len(err.splitlines()) == 1


def test_a_full_disk_is_one_line_and_debug_shows_the_traceback(
    tree, tmp_path, weights, capsys, monkeypatch
):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(np, "savez", full)
    args = embed_args(weights, str(tree / "street.flac"), "-o", str(tmp_path / "out"), "-q")
    assert cli.main(args) == 1
    assert_one_line_error(capsys.readouterr().err, "No space left on device", "street.npz")
    assert list((tmp_path / "out").iterdir()) == []  # no partial left behind
    with pytest.raises(OutputError, match="No space left on device"):
        cli.main([*args, "--debug"])


@pytest.mark.parametrize("output", ["/proc/nope", "existing"])
def test_the_installed_command_exits_1_with_one_line(tree, tmp_path, output):
    if output == "existing":
        output = str(tmp_path / "existing")
        Path(output).write_text("")
    command = Path(sys.executable).parent / "l3-kedro"
    done = subprocess.run(
        [str(command), "embed", str(tree / "street.flac"), "-o", output],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("l3-kedro: error: ")
    assert output in done.stderr and done.stdout == ""
