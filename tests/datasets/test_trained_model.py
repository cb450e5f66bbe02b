"""Tests of :class:`l3_kedro.datasets.trained_model.TrainedModel`."""

from __future__ import annotations

import subprocess
import sys

from l3_kedro.models.l3net import build_l3net

LOAD_IN_A_FRESH_PROCESS = """
import sys
from l3_kedro.datasets.trained_model import TrainedModel
print(len(TrainedModel(sys.argv[1]).load().get_weights()))
"""


def test_load_needs_no_earlier_import(tmp_path):
    """A notebook that only imports TrainedModel can load an L3-Net (custom layers inside)."""
    model = build_l3net(input_repr="mel128", width=0.125)
    model.save(tmp_path / "m.keras")
    done = subprocess.run(
        [sys.executable, "-c", LOAD_IN_A_FRESH_PROCESS, str(tmp_path / "m.keras")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == str(len(model.get_weights()))
