"""Tests for l3_kedro.evaluation.features (row selection, streaming scaler, float16 matrices)."""

from __future__ import annotations

import numpy as np
import pytest

from l3_kedro.datasets import EmbeddingStore
from l3_kedro.errors import EvaluationError
from l3_kedro.evaluation import fit_scaler, load_scaled, window_rows
from l3_kedro.evaluation.features import first_nonfinite_row, iter_row_chunks, rows_per_chunk


def test_window_rows_of_clips():
    rows, owner = window_rows(np.array([0, 5, 9]), np.array([2, 8, 10]))
    assert rows.tolist() == [0, 1, 5, 6, 7, 9]
    assert owner.tolist() == [0, 0, 1, 1, 1, 2]


def test_rows_per_chunk_bounds_the_bytes():
    assert rows_per_chunk(6144, chunk_bytes=64 << 20) == 2730
    assert rows_per_chunk(10**9, chunk_bytes=8) == 1


def test_chunks_read_scattered_rows_from_a_store(toy_store):
    rows = np.array([0, 1, 2, 7, 8, 20, 21, 22, 23, 40])
    with EmbeddingStore(toy_store) as store:
        expected = store.embeddings[:][rows]
        chunks = list(iter_row_chunks(store.embeddings, rows, chunk_rows=4, context="x"))
    assert [len(c) for c in chunks] == [4, 4, 2]
    assert all(c.dtype == np.float32 for c in chunks)
    np.testing.assert_array_equal(np.concatenate(chunks), expected)


def test_streaming_scaler_matches_numpy_over_float16_chunks(rng):
    data = (rng.standard_normal((101, 6)) * [1, 10, 0.1, 5, 2, 0] + [0, 3, -7, 100, 0, 4]).astype(
        np.float16
    )
    rows = np.sort(rng.choice(101, size=60, replace=False))
    scaler = fit_scaler(data, rows, chunk_rows=7, context="x")
    exact = data[rows].astype(np.float64)
    np.testing.assert_allclose(scaler.mean, exact.mean(axis=0), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(scaler.scale[:5], exact.std(axis=0)[:5], rtol=1e-6)
    assert scaler.scale[5] == 1.0  # constant dimension
    assert scaler.n_windows == 60


def test_scaled_windows_are_float16_and_standardised(rng):
    data = (rng.standard_normal((50, 4)) * 3 + 2).astype(np.float32)
    rows = np.arange(50)
    scaler = fit_scaler(data, rows, chunk_rows=16, context="x")
    scaled = load_scaled(data, rows, scaler=scaler, chunk_rows=16, context="x")
    assert scaled.dtype == np.float16 and scaled.shape == (50, 4)
    np.testing.assert_allclose(scaled.astype(np.float64).mean(axis=0), 0, atol=1e-2)
    np.testing.assert_allclose(scaled.astype(np.float64).std(axis=0), 1, atol=1e-2)


def test_scaled_values_beyond_float16_range_are_clipped_with_a_warning(caplog):
    data = np.array([[0.0], [2.0], [1e9]], dtype=np.float32)
    scaler = fit_scaler(data, np.array([0, 1]), chunk_rows=2, context="x")
    scaled = load_scaled(data, np.arange(3), scaler=scaler, chunk_rows=2, context="fold 9")
    assert np.isfinite(scaled).all() and scaled[2, 0] == np.float16(65_000)
    assert "fold 9" in caplog.text and "clipped" in caplog.text


def test_scaler_ignores_rows_it_is_not_given(rng):
    data = rng.standard_normal((40, 3)).astype(np.float32)
    train = np.arange(30)
    shifted = data.copy()
    shifted[30:] += 1000.0  # the "test" rows
    first = fit_scaler(data, train, chunk_rows=8, context="x")
    second = fit_scaler(shifted, train, chunk_rows=8, context="x")
    np.testing.assert_array_equal(first.mean, second.mean)
    np.testing.assert_array_equal(first.scale, second.scale)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_embeddings_are_an_error(bad):
    data = np.zeros((10, 3), dtype=np.float32)
    data[6, 1] = bad
    with pytest.raises(EvaluationError, match=r"'us8k' test fold 2.*NaN or Inf.*row 6"):
        fit_scaler(data, np.arange(10), chunk_rows=4, context="'us8k' test fold 2")
    assert first_nonfinite_row(data, np.arange(10), chunk_rows=4) == 6
    assert first_nonfinite_row(data, np.arange(6), chunk_rows=4) is None
