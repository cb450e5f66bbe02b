import json

import keras
import numpy as np
import pytest

from l3_kedro.avc import training as training_module
from l3_kedro.avc.batches import AvcPairBatches
from l3_kedro.avc.config import AvcTrainingConfig
from l3_kedro.avc.training import HISTORY_COLUMNS, compile_l3net, train_l3net
from l3_kedro.avc.variants import VariantSpec, fingerprint, shared_video_cache
from l3_kedro.models.l3net import build_l3net
from tests.avc.conftest import TINY_TRAINING, json_from_child

CONFIG = AvcTrainingConfig.from_parameters(TINY_TRAINING)


class Interrupted(Exception):
    pass


def _train(manifest, work_dir, *, stop_after_epoch=None, monkeypatch=None):
    cache = shared_video_cache(manifest, CONFIG)
    spec = VariantSpec("tiny", "mel128", "music")
    train = AvcPairBatches.from_config(
        cache,
        cache.indices(subset="music", split="train"),
        CONFIG,
        stream="train/music",
        n_batches=CONFIG.batches_per_epoch,
        train=True,
    )
    validation = AvcPairBatches.from_config(
        cache,
        cache.indices(subset="music", split="validation"),
        CONFIG,
        stream="validation/music",
        n_batches=1,
        train=False,
    )
    if stop_after_epoch is not None:
        original = training_module._train_epoch

        def failing(model, epoch, **kwargs):
            if epoch == stop_after_epoch:
                raise Interrupted
            return original(model, epoch, **kwargs)

        monkeypatch.setattr(training_module, "_train_epoch", failing)

    def build():
        keras.utils.set_random_seed(CONFIG.seed)
        model = build_l3net(
            input_repr="mel128", width=CONFIG.width, image_size=16, fft_dtype="float32"
        )
        return compile_l3net(model, CONFIG)

    return train_l3net(
        build_model=build,
        train=train,
        validation=validation,
        config=CONFIG,
        work_dir=work_dir,
        fingerprint=fingerprint(CONFIG, spec, manifest),
        label="tiny",
    )


@pytest.fixture(scope="module")
def straight(tiny_manifest, tmp_path_factory):
    return _train(tiny_manifest, tmp_path_factory.mktemp("straight") / "tiny")


def test_training_writes_history_best_and_checkpoints(straight):
    assert list(straight.history.columns) == list(HISTORY_COLUMNS)
    assert straight.history["epoch"].tolist() == [1, 2, 3]
    assert straight.history["samples_seen"].tolist() == [8, 16, 24]
    assert sorted(straight.checkpoint_paths) == [8, 16, 24]
    assert all(p.is_file() for p in straight.checkpoint_paths.values())
    assert straight.best_model_path.is_file()
    best = straight.history["val_accuracy"].idxmax()
    assert straight.best_epoch == straight.history.loc[best, "epoch"]
    assert straight.resumed_from_epoch == 0


def test_resume_after_interruption_continues_from_the_last_epoch(
    straight, tiny_manifest, tmp_path, monkeypatch
):
    work_dir = tmp_path / "tiny"
    with pytest.raises(Interrupted):
        _train(tiny_manifest, work_dir, stop_after_epoch=2, monkeypatch=monkeypatch)
    state = json.loads((work_dir / "state.json").read_text())
    assert state["epochs_done"] == 2
    assert sorted(p.name for p in work_dir.glob("epoch_*.keras")) == ["epoch_2.keras"]
    monkeypatch.undo()
    resumed = _train(tiny_manifest, work_dir)
    assert resumed.resumed_from_epoch == 2
    assert resumed.history["epoch"].tolist() == [1, 2, 3]  # nothing lost, nothing repeated
    # Same weights as the uninterrupted run: same optimizer state and batches.
    a = keras.saving.load_model(straight.checkpoint_paths[24], compile=False)
    b = keras.saving.load_model(resumed.checkpoint_paths[24], compile=False)
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_allclose(wa, wb, rtol=1e-4, atol=1e-5)


def test_finished_training_is_reused(straight, tiny_manifest):
    again = _train(tiny_manifest, straight.best_model_path.parent)
    assert again.resumed_from_epoch == 3
    assert again.history.equals(straight.history)


def test_other_settings_set_the_old_state_aside(tiny_manifest, tmp_path):
    work_dir = tmp_path / "tiny"
    work_dir.mkdir()
    (work_dir / "state.json").write_text(json.dumps({"fingerprint": "other", "epochs_done": 9}))
    outcome = _train(tiny_manifest, work_dir)
    assert outcome.resumed_from_epoch == 0
    assert len(list(tmp_path.glob("tiny.stale-*"))) == 1


@pytest.mark.slow
def test_training_on_jax_with_weight_averaging(tiny_manifest, tmp_path):
    """Epoch after epoch on JAX (a child process: the backend is fixed at import).

    Keras' weight averaging used to leave a weight and its average sharing one
    JAX buffer after ``fit``; the next epoch's first step then failed.
    """
    pytest.importorskip("jax")
    tiny_manifest.to_pickle(tmp_path / "manifest.pkl")
    child = f"""
import json, keras, numpy as np, pandas as pd
from tests.avc.test_training import _train
outcome = _train(pd.read_pickle({str(tmp_path / "manifest.pkl")!r}), {str(tmp_path / "tiny")!r})
best = keras.saving.load_model(outcome.best_model_path, compile=False)
print(json.dumps({{"backend": keras.backend.backend(), "epochs": outcome.history["epoch"].tolist(),
                  "finite": bool(all(np.isfinite(w).all() for w in best.get_weights()))}}))
"""
    result = json_from_child(child, timeout=600, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    assert result == {"backend": "jax", "epochs": [1, 2, 3], "finite": True}
