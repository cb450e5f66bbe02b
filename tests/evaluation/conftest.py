"""Fixtures of the evaluation tests: tiny stores written with ``write_store``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.evaluation.stores import (
    gaussian_embeddings,
    toy_clips,
    us8k_handcrafted,
    write_clips_store,
)


@pytest.fixture
def toy(rng) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """3 classes x 6 clips in each of folds 1 and 2, 3-7 Gaussian windows of 8 dims per clip."""
    clips = toy_clips(rng=rng)
    return clips, gaussian_embeddings(clips, rng=rng)


@pytest.fixture
def toy_store(tmp_path, toy) -> Path:
    clips, embeddings = toy
    return write_clips_store(tmp_path / "toy.h5", clips, embeddings)


@pytest.fixture(scope="session")
def us8k_embeddings(embedded_raw) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """Hand-crafted embeddings of 64 real UrbanSound8K clips (4 classes, folds 1-2)."""
    if not (embedded_raw / "urbansound8k").is_dir():
        pytest.skip("the embedded UrbanSound8K subset is missing")
    return us8k_handcrafted(embedded_raw)


@pytest.fixture
def us8k_store(tmp_path, us8k_embeddings) -> Path:
    clips, embeddings = us8k_embeddings
    return write_clips_store(tmp_path / "us8k.h5", clips, embeddings, dtype="float16")
