"""Tests for l3_kedro.evaluation.mlp (the downstream MLP and its batch feeder)."""

from __future__ import annotations

import gc
import weakref

import keras
import numpy as np
import pytest

from l3_kedro.evaluation import (
    EARLY_STOPPING_MONITOR,
    DownstreamMLP,
    WeightDecay,
    WindowBatches,
    build_mlp,
)


@pytest.fixture
def windows(rng):
    """Two Gaussian classes, 8 dims, float16 as the protocol holds them."""
    targets = np.repeat([0, 1], 60)
    x = rng.standard_normal((120, 8)) + 2.5 * targets[:, None] * np.eye(8)[0]
    order = rng.permutation(120)
    return x[order].astype(np.float16), targets[order]


def test_architecture_is_512_relu_128_relu_softmax_with_l2_on_kernels():
    model = build_mlp(input_dim=6144, n_classes=10, weight_decay=1e-4)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == [512, 128, 10]
    assert [layer.activation.__name__ for layer in dense] == ["relu", "relu", "softmax"]
    assert all(isinstance(layer.kernel_regularizer, WeightDecay) for layer in dense)
    assert all(layer.bias_regularizer is None for layer in dense)
    kernel = dense[2].kernel
    penalty = dense[2].kernel_regularizer(kernel)
    expected = 1e-4 * np.sum(np.square(keras.ops.convert_to_numpy(kernel)))
    assert float(penalty) == pytest.approx(expected, rel=1e-5)
    assert model.count_params() == 6144 * 512 + 512 + 512 * 128 + 128 + 128 * 10 + 10


def test_batches_are_float32_and_visit_every_window_once_per_epoch(windows):
    x, y = windows
    batches = WindowBatches(x, y, batch_size=32, seed=3)
    assert len(batches) == 4
    orders = []
    for _ in range(2):
        seen = []
        for i in range(len(batches)):
            xb, yb = batches[i]
            assert xb.dtype == np.float32 and xb.shape[1] == 8 and len(xb) == len(yb)
            seen.append(xb)
        rows = np.concatenate(seen)
        assert len(rows) == 120
        # every window exactly once (rows are distinct with probability 1)
        assert len({r.tobytes() for r in rows}) == 120
        orders.append(rows)
        batches.on_epoch_end()
    assert not np.array_equal(orders[0], orders[1])
    again = WindowBatches(x, y, batch_size=32, seed=3)
    np.testing.assert_array_equal(np.concatenate([again[i][0] for i in range(4)]), orders[0])


def test_unshuffled_batches_keep_order(windows):
    x, y = windows
    batches = WindowBatches(x, y, batch_size=50)
    np.testing.assert_array_equal(batches[2][1], y[100:])


@pytest.fixture(scope="module")
def mlp() -> DownstreamMLP:
    return DownstreamMLP(input_dim=8, n_classes=2)


def train(mlp, windows, *, seed=0, epochs=4, patience=1, learning_rate=1e-2, weight_decay=1e-4):
    x, y = windows
    return mlp.train(
        x_train=x[:100], y_train=y[:100], x_val=x[100:], y_val=y[100:],
        learning_rate=learning_rate, weight_decay=weight_decay, epochs=epochs,
        patience=patience, batch_size=16, seed=seed,
    )  # fmt: skip


def test_same_seed_same_model(mlp, windows):
    run_a = train(mlp, windows, seed=5, epochs=2)
    first = mlp.get_weights()
    run_b = train(mlp, windows, seed=5, epochs=2)
    second = mlp.get_weights()
    train(mlp, windows, seed=6, epochs=1)
    assert run_a == run_b
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], mlp.get_weights()[0])


def test_every_run_starts_afresh(mlp, windows):
    """A run after another gives what it gives on a new MLP (weights and Adam reset)."""
    train(mlp, windows, seed=1, epochs=2, learning_rate=0.3, weight_decay=1e-2)
    run = train(mlp, windows, seed=2, epochs=2)
    fresh = DownstreamMLP(input_dim=8, n_classes=2)
    assert train(fresh, windows, seed=2, epochs=2) == run
    for a, b in zip(mlp.get_weights(), fresh.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_early_stopping_restores_the_best_epoch(mlp, windows):
    x, y = windows
    run = train(mlp, windows, epochs=6, patience=1, learning_rate=0.5)
    assert EARLY_STOPPING_MONITOR == "val_cross_entropy"
    assert 1 <= run.best_epoch <= run.epochs_run <= 6
    likelihoods = mlp.predict(x[100:], batch_size=7)
    assert likelihoods.shape == (20, 2) and likelihoods.dtype == np.float32
    np.testing.assert_allclose(likelihoods.sum(axis=1), 1, rtol=1e-5)
    scores = mlp.model.evaluate(
        x[100:].astype(np.float32), y[100:], batch_size=20, verbose=0, return_dict=True
    )
    assert scores["cross_entropy"] == pytest.approx(run.val_cross_entropy, rel=1e-4)


def test_training_keeps_no_reference_to_the_windows(mlp, windows):
    """The fold's matrices must be freed once a fold is done (not kept by TensorFlow)."""
    x, y = (a.copy() for a in windows)
    refs = [weakref.ref(x)]
    mlp.train(
        x_train=x, y_train=y, x_val=x[:20], y_val=y[:20], learning_rate=1e-2,
        weight_decay=1e-4, epochs=1, patience=1, batch_size=16, seed=0,
    )  # fmt: skip
    del x
    gc.collect()
    assert refs[0]() is None


def test_epoch_rows_are_the_rows_of_the_batches(windows):
    x, y = windows
    batches = WindowBatches(x, y, batch_size=32, seed=4)
    for _ in range(2):
        rows = batches.epoch_rows()
        assert rows.dtype == np.int32 and sorted(rows) == list(range(120))
        joined = np.concatenate([batches[i][0] for i in range(len(batches))])
        np.testing.assert_array_equal(x[rows].astype(np.float32), joined)
        batches.on_epoch_end()


def test_one_call_per_epoch_trains_as_batch_by_batch(windows, monkeypatch):
    """Small matrices train each epoch in one compiled call; same result as step by step."""
    from l3_kedro.evaluation import mlp as mlp_module

    x, y = windows
    fused = DownstreamMLP(input_dim=8, n_classes=2)
    assert fused._fused_epochs(x[:100], y[:100], x[100:], y[100:]) is not None
    run_fused = train(fused, windows, seed=3, epochs=5, patience=5)
    monkeypatch.setattr(mlp_module, "FUSED_EPOCH_MAX_BYTES", 0)
    stepped = DownstreamMLP(input_dim=8, n_classes=2)
    assert stepped._fused_epochs(x[:100], y[:100], x[100:], y[100:]) is None
    run_stepped = train(stepped, windows, seed=3, epochs=5, patience=5)
    assert run_fused.epochs_run == run_stepped.epochs_run == 5
    assert run_fused.best_epoch == run_stepped.best_epoch
    assert run_fused.val_cross_entropy == pytest.approx(run_stepped.val_cross_entropy, rel=1e-5)
    for a, b in zip(fused.get_weights(), stepped.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_training_step_is_keras_adam_on_the_compiled_loss(windows):
    """The MLP's own step (one Adam kernel per weight) trains as Keras' fit would."""
    x, y = windows
    lean = DownstreamMLP(input_dim=8, n_classes=2)
    lean.reset(learning_rate=1e-2, weight_decay=1e-3, seed=7)
    reference = build_mlp(input_dim=8, n_classes=2, weight_decay=1e-3)
    reference.set_weights(lean.get_weights())
    reference.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-2), loss="sparse_categorical_crossentropy"
    )
    batches = WindowBatches(x, y, batch_size=16, seed=1)
    for _ in range(3):
        for i in range(len(batches)):
            lean._train_on_batch(*batches[i])
            reference.train_on_batch(*batches[i])
        batches.on_epoch_end()
    # float32 round-off (other op order) grows where Adam divides by sqrt(v) ~ 0:
    # a few weights of ~0.01 differ by a few 1e-6 after 24 steps at lr 1e-2
    for a, b in zip(lean.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5)
    assert not np.allclose(
        lean.get_weights()[0], build_mlp(input_dim=8, n_classes=2, weight_decay=0).get_weights()[0]
    )
