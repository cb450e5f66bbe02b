"""Checks of the Python API's parameters: each returns the value or raises a ParameterError naming it."""

from __future__ import annotations

import numpy as np

from l3_kedro.embedding.fast import EMBED_MODES
from l3_kedro.errors import ParameterError
from l3_kedro.models.constants import VALID_EMBEDDING_SIZES

__all__ = ["check_batch_size", "check_embedding_size", "check_mode"]


def check_mode(mode: str) -> str:
    """``mode`` if it is ``exact`` or ``fast``."""
    if mode not in EMBED_MODES:
        raise ParameterError(f"mode must be 'exact' or 'fast', got {mode!r}.")
    return mode


def check_embedding_size(embedding_size: int) -> int:
    """``embedding_size`` as an int if it is one of the L3 sizes."""
    if embedding_size not in VALID_EMBEDDING_SIZES or isinstance(embedding_size, bool):
        raise ParameterError(
            f"embedding_size={embedding_size!r} is not supported; use one of {VALID_EMBEDDING_SIZES}."
        )
    return int(embedding_size)


def check_batch_size(batch_size: int) -> int:
    """``batch_size`` as an int if it is a positive integer."""
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, int | np.integer)
        or batch_size < 1
    ):
        raise ParameterError(f"batch_size must be a positive integer, got {batch_size!r}.")
    return int(batch_size)
