"""The downstream protocol's parameters, validated once into a frozen dataclass."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from numbers import Integral, Real
from typing import Any

from l3_kedro.errors import ParameterError

GRID_KEYS = ("learning_rate", "weight_decay")
"""Keys of the hyper-parameter grid (each a list of values; the grid is their product)."""


def _int(name: str, value: Any, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ParameterError(f"{name}={value!r}; expected an integer >= {minimum}.")
    return int(value)


def _positive_values(name: str, values: Any) -> tuple[float, ...]:
    if isinstance(values, Real) and not isinstance(values, bool):
        values = [values]
    if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
        raise ParameterError(f"{name}={values!r}; expected a non-empty list of positive numbers.")
    out = []
    for value in values:
        if (
            isinstance(value, bool)
            or not isinstance(value, Real)
            or not math.isfinite(value)
            or value <= 0
        ):
            hint = " (YAML reads 1e-5 as text: write 1.0e-5)" if isinstance(value, str) else ""
            raise ParameterError(
                f"{name} holds {value!r}; every value must be a positive number{hint}."
            )
        out.append(float(value))
    if len(set(out)) < len(out):
        raise ParameterError(f"{name}={list(values)} repeats a value.")
    return tuple(out)


@dataclass(frozen=True)
class ProtocolConfig:
    """Settings of the downstream classification protocol.

    Attributes
    ----------
    learning_rates : tuple of float
        Adam initial learning rates to try (paper: 1e-5, 1e-4, 1e-3).
    weight_decays : tuple of float
        L2 factors to try (paper: 1e-5, 1e-4, 1e-3).
    epochs : int
        Maximum training epochs per grid point (paper: 50).
    patience : int
        Early-stopping patience in epochs (paper: 20).
    batch_size : int
        Windows per gradient step (authors' code: 64).
    validation_fraction : float
        Share of each training split's clips held out for validation, in
        (0, 0.5] (paper: 0.1).
    test_folds : tuple of int, optional
        Folds used as test folds; all folds in turn when None.
    seed : int
        Seeds the validation split, the initial weights and the window order.
    """

    learning_rates: tuple[float, ...]
    weight_decays: tuple[float, ...]
    epochs: int = 50
    patience: int = 20
    batch_size: int = 64
    validation_fraction: float = 0.1
    test_folds: tuple[int, ...] | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalise through the base class
        set_(self, "learning_rates", _positive_values("grid.learning_rate", self.learning_rates))
        set_(self, "weight_decays", _positive_values("grid.weight_decay", self.weight_decays))
        set_(self, "epochs", _int("epochs", self.epochs, minimum=1))
        set_(self, "patience", _int("patience", self.patience, minimum=0))
        set_(self, "batch_size", _int("batch_size", self.batch_size, minimum=1))
        set_(self, "seed", _int("seed", self.seed, minimum=0))
        fraction = self.validation_fraction
        if isinstance(fraction, bool) or not isinstance(fraction, Real) or not 0 < fraction <= 0.5:
            raise ParameterError(
                f"validation_fraction={fraction!r}; expected a number in (0, 0.5] (paper: 0.1)."
            )
        set_(self, "validation_fraction", float(fraction))
        if self.test_folds is not None:
            folds = self.test_folds
            if isinstance(folds, Integral) and not isinstance(folds, bool):
                folds = (folds,)
            if isinstance(folds, str | bytes) or not isinstance(folds, Sequence) or not folds:
                raise ParameterError(
                    f"test_folds={folds!r}; expected a non-empty list of fold numbers or null."
                )
            folds = tuple(_int("test_folds[]", f, minimum=0) for f in folds)
            if len(set(folds)) < len(folds):
                raise ParameterError(f"test_folds={list(folds)} repeats a fold.")
            set_(self, "test_folds", folds)

    @property
    def grid_points(self) -> list[tuple[float, float]]:
        """Every (learning_rate, weight_decay) pair, learning rate varying slowest."""
        return [(lr, wd) for lr in self.learning_rates for wd in self.weight_decays]

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> ProtocolConfig:
        """Build from a parameters section (e.g. ``parameters_downstream.yml``).

        Parameters
        ----------
        parameters : mapping
            ``grid`` (mapping with ``learning_rate`` and ``weight_decay``
            lists, required) and optionally ``epochs``, ``patience``,
            ``batch_size``, ``validation_fraction``, ``test_folds``, ``seed``.

        Raises
        ------
        ParameterError
            Naming an unknown, missing or out-of-domain parameter.
        """
        if not isinstance(parameters, Mapping):
            raise ParameterError(f"The protocol parameters must be a mapping, not {parameters!r}.")
        known = {"grid"} | {f.name for f in fields(cls)} - {"learning_rates", "weight_decays"}
        unknown = sorted(set(parameters) - known)
        if unknown:
            raise ParameterError(
                f"Unknown protocol parameter(s) {unknown}; expected some of {sorted(known)}."
            )
        grid = parameters.get("grid")
        if not isinstance(grid, Mapping) or sorted(grid) != sorted(GRID_KEYS):
            raise ParameterError(
                f"grid={grid!r}; expected a mapping with exactly the keys {list(GRID_KEYS)}, "
                "each a list of values (paper: [1e-5, 1e-4, 1e-3])."
            )
        options = {k: v for k, v in parameters.items() if k != "grid"}
        return cls(
            learning_rates=grid["learning_rate"], weight_decays=grid["weight_decay"], **options
        )
