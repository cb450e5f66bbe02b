"""``distribution: multi_worker``: two TensorFlow workers on 127.0.0.1 train one L3-Net.

Each worker is a fresh process with its own ``TF_CONFIG`` (what every machine
of a real cluster gets); both run ``train_l3net`` on the tiny real corpus
with the same global batch of 4 (2 pairs per worker) and BatchNormalization
statistics over the global batch (``sync_batch_norm``).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from tests.avc.conftest import ROOT, json_from_child

pytestmark = pytest.mark.slow

CHILD = """
import hashlib, json, os
import pandas as pd
from l3_kedro.avc.distribution import is_chief, strategy_scope

distribution = os.environ["L3_DISTRIBUTION"]
scope = strategy_scope(distribution)  # first, before TensorFlow runs anything else
import keras, numpy as np
from l3_kedro.avc.batches import AvcPairBatches
from l3_kedro.avc.config import AvcTrainingConfig
from l3_kedro.avc.training import build_training_model, train_l3net
from l3_kedro.avc.variants import VariantSpec, fingerprint, shared_video_cache
from tests.avc.conftest import TINY_TRAINING

config = AvcTrainingConfig.from_parameters({
    **TINY_TRAINING, "distribution": distribution, "sync_batch_norm": os.environ.get("L3_SYNC", "1") == "1",
    "ema_momentum": None, "epochs": int(os.environ["L3_EPOCHS"]),
})
manifest = pd.read_parquet(os.environ["L3_MANIFEST"])
cache = shared_video_cache(manifest, config)
batches = {
    split: AvcPairBatches.from_config(
        cache, cache.indices(subset="music", split=split), config, stream=f"{split}/music",
        n_batches=n, train=split == "train",
    )
    for split, n in (("train", config.batches_per_epoch), ("validation", 1))
}
models = []
load = keras.saving.load_model
keras.saving.load_model = lambda *a, **k: models.append(load(*a, **k)) or models[-1]

def build():
    models.append(build_training_model("mel128", config, name="tiny"))
    return models[-1]

import l3_kedro.avc.training as training
stop_at = int(os.environ.get("L3_STOP_AT_EPOCH", "-1"))  # an interruption, on every worker
epoch_of = training._train_epoch
def train_epoch(model, epoch, **kwargs):
    if epoch == stop_at:
        print(json.dumps({"interrupted": epoch}), flush=True)
        os._exit(0)
    return epoch_of(model, epoch, **kwargs)
training._train_epoch = train_epoch

spec = VariantSpec("tiny", "mel128", "music")
outcome = train_l3net(
    build_model=build, train=batches["train"], validation=batches["validation"], config=config,
    work_dir=os.environ["L3_WORK_DIR"], fingerprint=fingerprint(config, spec, manifest),
    label="tiny", scope=scope, chief=is_chief(distribution),
)
weights = models[-1].get_weights()
print(json.dumps({
    "chief": is_chief(distribution),
    "digest": hashlib.sha256(b"".join(np.asarray(w).tobytes() for w in weights)).hexdigest(),
    "first": [float(np.asarray(w).ravel()[0]) for w in weights if np.asarray(w).size][:40],
    "loss": outcome.history["loss"].tolist(),
    "val": outcome.history["val_loss"].tolist(),
    "resumed_from": outcome.resumed_from_epoch,
}))
"""


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _environment(manifest, work_dir, epochs, **more) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")]),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "L3_MANIFEST": str(manifest),
        "L3_WORK_DIR": str(work_dir),
        "L3_EPOCHS": str(epochs),
        **more,
    }


def _two_workers(manifest, work_dir, epochs, **more: str) -> list[dict]:
    """Run the child as worker 0 and worker 1 of one cluster; return their JSON."""
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD],
            cwd=ROOT,
            env=_environment(
                manifest,
                work_dir,
                epochs,
                L3_DISTRIBUTION="multi_worker",
                **more,
                TF_CONFIG=json.dumps(
                    {"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}}
                ),
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    outputs = []
    try:
        for child in children:
            out, err = child.communicate(timeout=600)
            assert child.returncode == 0, err[-3000:]
            outputs.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for child in children:
            child.kill()
    return outputs


@pytest.fixture(scope="module")
def manifest_file(tiny_manifest, tmp_path_factory):
    path = tmp_path_factory.mktemp("multi_worker") / "manifest.parquet"
    tiny_manifest.to_parquet(path)
    return path


@pytest.fixture(scope="module")
def straight(manifest_file, tmp_path_factory):
    """Two workers, two epochs, uninterrupted: (work dir, [chief's JSON, other's JSON])."""
    work_dir = tmp_path_factory.mktemp("straight") / "two"
    return work_dir, _two_workers(manifest_file, work_dir, epochs=2)


def test_two_workers_train_like_one_device_with_the_same_global_batch(
    manifest_file, straight, tmp_path
):
    work_dir, (chief, other) = straight
    assert (chief["chief"], other["chief"]) == (True, False)
    assert chief["digest"] == other["digest"]  # the replicas end with identical weights
    assert chief["loss"] == other["loss"]
    alone = json_from_child(
        CHILD,
        timeout=600,
        **{
            k: v
            for k, v in _environment(
                manifest_file, tmp_path / "one", 2, L3_DISTRIBUTION="one_device"
            ).items()
            if k.startswith(("L3_", "TF_CPP"))
        },
    )
    np.testing.assert_allclose(chief["loss"], alone["loss"], rtol=1e-3)  # 30 % apart when wrong
    np.testing.assert_allclose(chief["val"], alone["val"], rtol=1e-3)
    # Adam moves a weight by about the learning rate (1e-3) per step whatever the
    # gradient's size, so a near-zero gradient summed in another order may move
    # it the other way: most weights agree to float32 round-off, all within 4 steps
    difference = np.abs(np.subtract(chief["first"], alone["first"]))
    assert np.median(difference) < 1e-5 and difference.max() <= 4e-3
    # only the chief wrote: one state, the last epoch, checkpoints and the best model
    written = sorted(p.name for p in work_dir.iterdir())
    assert written == ["best.keras", "checkpoints", "epoch_2.keras", "state.json"]
    assert not [p for p in work_dir.rglob("*") if "partial" in p.name]


def test_two_workers_resume_from_the_chiefs_state(manifest_file, straight, tmp_path):
    stopped = _two_workers(manifest_file, tmp_path / "run", epochs=2, L3_STOP_AT_EPOCH="1")
    assert stopped == [{"interrupted": 1}, {"interrupted": 1}]
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    assert state["epochs_done"] == 1  # the chief committed epoch 1 before the stop
    resumed = _two_workers(manifest_file, tmp_path / "run", epochs=2)
    assert [r["resumed_from"] for r in resumed] == [1, 1]
    assert resumed[0]["digest"] == resumed[1]["digest"]
    np.testing.assert_allclose(resumed[0]["loss"], straight[1][0]["loss"], rtol=1e-3)
