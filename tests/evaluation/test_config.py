"""Tests for l3_kedro.evaluation.config (ProtocolConfig from a parameters section)."""

from __future__ import annotations

import pytest

from l3_kedro.errors import ParameterError
from l3_kedro.evaluation import ProtocolConfig

PAPER = {
    "grid": {"learning_rate": [1e-5, 1e-4, 1e-3], "weight_decay": [1e-5, 1e-4, 1e-3]},
    "epochs": 50,
    "patience": 20,
    "batch_size": 64,
    "validation_fraction": 0.1,
    "test_folds": None,
    "seed": 0,
}


def test_paper_parameters():
    config = ProtocolConfig.from_parameters(PAPER)
    assert len(config.grid_points) == 9
    assert config.grid_points[:2] == [(1e-5, 1e-5), (1e-5, 1e-4)]
    assert config.test_folds is None and config.epochs == 50
    with pytest.raises(AttributeError):
        config.epochs = 3  # frozen


def test_defaults_and_single_values():
    config = ProtocolConfig.from_parameters(
        {"grid": {"learning_rate": 1e-3, "weight_decay": [1e-4]}, "test_folds": 2}
    )
    assert config.grid_points == [(1e-3, 1e-4)]
    assert config.test_folds == (2,)
    assert (config.epochs, config.patience, config.batch_size) == (50, 20, 64)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"epochs": 0}, "epochs=0"),
        ({"patience": -1}, "patience=-1"),
        ({"batch_size": 2.5}, "batch_size=2.5"),
        ({"seed": True}, "seed=True"),
        ({"validation_fraction": 0.0}, "validation_fraction=0.0"),
        ({"validation_fraction": 0.9}, "validation_fraction=0.9"),
        ({"test_folds": []}, "test_folds="),
        ({"test_folds": [1, 1]}, "repeats a fold"),
        ({"grid": {"learning_rate": [1e-3]}}, "grid="),
        ({"grid": {"learning_rate": [], "weight_decay": [1e-4]}}, "grid.learning_rate"),
        ({"grid": {"learning_rate": [-1.0], "weight_decay": [1e-4]}}, "grid.learning_rate"),
        ({"grid": {"learning_rate": ["1e-5"], "weight_decay": [1e-4]}}, "write 1.0e-5"),
        ({"grid": {"learning_rate": [1e-3], "weight_decay": [1e-4, 1e-4]}}, "repeats a value"),
        ({"epoch": 5}, r"Unknown protocol parameter\(s\) \['epoch'\]"),
    ],
)
def test_bad_parameters_are_named(change, message):
    with pytest.raises(ParameterError, match=message):
        ProtocolConfig.from_parameters({**PAPER, **change})
