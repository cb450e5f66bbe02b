"""Resumable L3-Net training: epochs, validation, best model and checkpoints.

State lives in a work directory, written atomically in this order after each
epoch: checkpoint (when due), best model (when improved), the epoch's full
state (model + optimizer, ``epoch_{k}.keras``), then ``state.json``, which
commits the epoch. A run killed at any point resumes from the last committed
epoch with the same weights, optimizer moments and (seeded) batches, so no
work is lost beyond the epoch in flight and none is repeated. A work
directory made with other settings (another fingerprint) is set aside, not
reused.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from l3_kedro.atomic_files import replace_atomically
from l3_kedro.avc.batches import AvcPairBatches, keras_input
from l3_kedro.avc.config import AvcTrainingConfig
from l3_kedro.avc.distribution import build_from_local_batches, training_optimizer
from l3_kedro.errors import ModelError
from l3_kedro.models.l3net import build_l3net

logger = logging.getLogger(__name__)

HISTORY_COLUMNS = (
    "epoch",
    "samples_seen",
    "loss",
    "accuracy",
    "val_loss",
    "val_accuracy",
    "seconds",
)
"""Columns of the per-epoch training history (losses in nats, accuracies in [0, 1])."""

STATE_FILE = "state.json"


@dataclass(frozen=True)
class TrainingOutcome:
    """What a finished training leaves behind.

    Attributes
    ----------
    history : pandas.DataFrame
        One row per epoch, :data:`HISTORY_COLUMNS`.
    best_epoch : int
        Epoch (1-based) with the highest validation accuracy (earliest on ties).
    best_model_path : Path
        ``.keras`` file of the model at ``best_epoch``.
    checkpoint_paths : dict
        ``{samples seen: .keras path}`` for every checkpoint.
    resumed_from_epoch : int
        Epochs already done when this call started (0: fresh start).
    """

    history: pd.DataFrame
    best_epoch: int
    best_model_path: Path
    checkpoint_paths: dict[int, Path]
    resumed_from_epoch: int


def _write_state(work_dir: Path, state: dict[str, Any]) -> None:
    text = json.dumps(state, indent=1)
    replace_atomically(work_dir / STATE_FILE, lambda partial: partial.write_text(text))


def _read_state(work_dir: Path, fingerprint: str, *, chief: bool = True) -> dict[str, Any] | None:
    path = work_dir / STATE_FILE
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        state = {}
    if state.get("fingerprint") == fingerprint:
        return state
    if not chief:  # the chief sets the old state aside
        return None
    aside = work_dir.with_name(f"{work_dir.name}.stale-{int(time.time())}")
    logger.warning(
        "Training state in %s was made with other settings or data; moved to %s, starting afresh.",
        work_dir,
        aside,
    )
    os.replace(work_dir, aside)
    return None


def compile_l3net(model: keras.Model, config: AvcTrainingConfig) -> keras.Model:
    """Compile with Adam (docs/reference.md §6 settings from ``config``) and cross-entropy.

    With ``config.ema_momentum``, Adam keeps a moving average of the weights,
    which Keras writes into the model at the end of each ``fit`` (one epoch).
    A mixed-precision model gets dynamic loss scaling
    (:func:`~l3_kedro.avc.distribution.training_optimizer`).
    """
    adam = keras.optimizers.Adam(
        learning_rate=config.learning_rate,
        beta_1=config.beta_1,
        beta_2=config.beta_2,
        use_ema=config.ema_momentum is not None,
        ema_momentum=config.ema_momentum or 0.99,
    )
    model.compile(
        optimizer=training_optimizer(adam, model),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    # Adam's moments (and averages) are made here, eagerly: made while the first
    # training step is traced, each of the ~200 variables cost ~26 ms of tracing
    # (5.5 s of a mel256 variant's first epoch on a 2-core CPU). Same zeros either way.
    model.optimizer.build(model.trainable_variables)
    return model


def build_training_model(
    input_repr: str, config: AvcTrainingConfig, *, name: str = "l3net"
) -> keras.Model:
    """A new L3-Net with the sizes of ``config``, seeded by ``config.seed``, compiled.

    Build it under :func:`~l3_kedro.avc.distribution.precision_policy` (and a
    strategy's scope) where those apply.
    """
    keras.utils.set_random_seed(config.seed)
    model = build_l3net(
        input_repr=input_repr,
        width=config.width,
        weight_decay=config.weight_decay,
        fft_dtype=config.fft_dtype,
        image_size=config.image_size,
        bn_momentum=config.bn_momentum,
        sync_batch_norm=config.sync_batch_norm,
        name=name,
    )
    return compile_l3net(model, config)


class _BatchProgress(keras.callbacks.Callback):
    """A rich progress bar over the batches of one epoch."""

    def __init__(self, progress: Progress, task: Any) -> None:
        super().__init__()
        self.progress, self.task = progress, task

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.progress.update(self.task, advance=1)


def train_l3net(
    *,
    build_model: Callable[[], keras.Model],
    train: AvcPairBatches,
    validation: AvcPairBatches,
    config: AvcTrainingConfig,
    work_dir: str | Path,
    fingerprint: str,
    label: str,
    scope: Callable[[], Any] | None = None,
    on_epoch_end: Callable[[dict[str, Any]], None] | None = None,
    chief: bool = True,
) -> TrainingOutcome:
    """Train (or resume, or reuse) one L3-Net variant.

    Parameters
    ----------
    build_model : callable
        Returns a new, compiled model (called only on a fresh start).
    train, validation : AvcPairBatches
        Training batches (augmented) and the fixed validation set.
    config : AvcTrainingConfig
        Epochs, checkpoints and batch sizes.
    work_dir : str or Path
        Directory holding this variant's resumable state.
    fingerprint : str
        Digest of everything that defines the training (settings, variant, videos).
    label : str
        Variant name for logs and the progress bar.
    scope : callable, optional
        Context-manager factory (a distribution strategy's ``scope``) under which
        models are built and loaded.
    on_epoch_end : callable, optional
        Called with each epoch's history row (:data:`HISTORY_COLUMNS`) once
        the epoch is committed to ``work_dir`` (e.g. to log it live).
    chief : bool
        Whether this process writes ``work_dir``. In a multi-worker cluster
        every worker trains the same replicated model and only the chief
        (:func:`~l3_kedro.avc.distribution.is_chief`) writes; the others read
        the chief's state to resume, so ``work_dir`` must be on a filesystem
        they share.

    Returns
    -------
    TrainingOutcome
    """
    work_dir = Path(work_dir)
    state = _read_state(work_dir, fingerprint, chief=chief) if work_dir.exists() else None
    if chief:
        (work_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    scope = scope or contextlib.nullcontext
    if state is None:
        state = {"fingerprint": fingerprint, "epochs_done": 0, "history": [], "best_epoch": 0}
        state["best_val_accuracy"] = -1.0
        with scope():
            model = build_model()
    else:
        latest = work_dir / f"epoch_{state['epochs_done']}.keras"
        with scope():
            try:
                model = keras.saving.load_model(latest, compile=True)
            except Exception as exc:
                raise ModelError(
                    f"Cannot resume {label!r} from {latest}: {exc}. Delete {work_dir} to "
                    "start this variant afresh."
                ) from exc
    build_from_local_batches(model)
    resumed_from = int(state["epochs_done"])
    if resumed_from >= config.epochs:
        logger.info("%s: training already complete in %s; reusing it.", label, work_dir)
    elif resumed_from:
        logger.info("%s: resuming after epoch %d of %d.", label, resumed_from, config.epochs)
    if resumed_from < config.epochs:
        _preload(train, validation)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} batches"),
        TimeRemainingColumn(),
        transient=True,
    ) as progress:
        for epoch in range(resumed_from, config.epochs):
            state = _train_epoch(
                model,
                epoch,
                train=train,
                validation=validation,
                config=config,
                work_dir=work_dir,
                state=state,
                label=label,
                progress=progress,
                chief=chief,
            )
            if on_epoch_end is not None:
                on_epoch_end(dict(state["history"][-1]))
    history = pd.DataFrame(state["history"], columns=list(HISTORY_COLUMNS))
    checkpoints = {
        n: work_dir / "checkpoints" / f"samples_{n}.keras" for n in config.checkpoint_samples
    }
    return TrainingOutcome(
        history=history,
        best_epoch=int(state["best_epoch"]),
        best_model_path=work_dir / "best.keras",
        checkpoint_paths=checkpoints,
        resumed_from_epoch=resumed_from,
    )


def unshare_averaged_weights(model: keras.Model) -> None:
    """After ``fit`` with weight averaging: give every weight its own buffer (JAX).

    Keras ends ``fit`` by assigning each moving average to its weight; on JAX
    both then hold one array, and the next ``fit``'s first step, which donates
    its inputs, fails ("Attempt to donate the same buffer twice"). Other
    backends copy on assignment; nothing to do there.
    """
    if keras.backend.backend() == "jax" and getattr(model.optimizer, "use_ema", False):
        for weight in model.trainable_variables:
            weight.assign(keras.ops.copy(weight.value))


def _preload(*streams: AvcPairBatches) -> None:
    """Decode every video of ``streams`` before training when they all fit in the cache.

    Batches are then only crops of decoded arrays (a few ms), cheap enough to
    make in the training thread (``workers: 1``), so training never waits on
    decoding. A corpus larger than the cache is decoded on the way instead, by
    the batch worker threads.
    """
    cache = streams[0].cache
    videos = np.unique(np.concatenate([s.videos for s in streams]))
    if all(s.cache is cache for s in streams) and videos.size <= cache.capacity:
        cache.preload(videos)


def _train_epoch(
    model, epoch, *, train, validation, config, work_dir, state, label, progress, chief=True
):
    started = time.perf_counter()
    task = progress.add_task(f"{label} epoch {epoch + 1}/{config.epochs}", total=len(train))
    train.epoch = epoch
    fit = model.fit(
        keras_input(train),
        epochs=epoch + 1,
        initial_epoch=epoch,
        shuffle=False,  # batches are drawn per (seed, epoch, index) already
        verbose=0,
        callbacks=[_BatchProgress(progress, task)],
    )
    progress.remove_task(task)
    unshare_averaged_weights(model)
    scores = model.evaluate(keras_input(validation), verbose=0, return_dict=True)
    done = epoch + 1
    row = {
        "epoch": done,
        "samples_seen": done * config.samples_per_epoch,
        "loss": float(fit.history["loss"][-1]),
        "accuracy": float(fit.history["accuracy"][-1]),
        "val_loss": float(scores["loss"]),
        "val_accuracy": float(scores["accuracy"]),
        "seconds": time.perf_counter() - started,
    }
    logger.info(
        "%s epoch %d/%d: loss %.4f, accuracy %.3f, val_loss %.4f, val_accuracy %.3f (%.0f s)",
        label,
        done,
        config.epochs,
        row["loss"],
        row["accuracy"],
        row["val_loss"],
        row["val_accuracy"],
        row["seconds"],
    )
    new = dict(state, history=[*state["history"], row], epochs_done=done)
    improved = row["val_accuracy"] > state["best_val_accuracy"]
    if improved:
        new.update(best_epoch=done, best_val_accuracy=row["val_accuracy"])
    if chief:
        _commit_epoch(model, work_dir, new, epoch=done, config=config, improved=improved)
    return new


def _commit_epoch(model, work_dir, state, *, epoch, config, improved) -> None:
    """Write epoch ``epoch``'s model (and checkpoint, best model) and then its state."""
    latest = work_dir / f"epoch_{epoch}.keras"
    replace_atomically(latest, model.save)  # serialised once; best and checkpoint are copies
    if epoch in config.checkpoint_epochs:
        samples = state["history"][-1]["samples_seen"]
        checkpoint = work_dir / "checkpoints" / f"samples_{samples}.keras"
        replace_atomically(checkpoint, lambda partial: shutil.copyfile(latest, partial))
    if improved:
        replace_atomically(
            work_dir / "best.keras", lambda partial: shutil.copyfile(latest, partial)
        )
    _write_state(work_dir, state)
    previous = work_dir / f"epoch_{epoch - 1}.keras"
    if previous.exists():
        previous.unlink()


def remove_work_dir(work_dir: str | Path) -> None:
    """Delete a variant's training state (forces a fresh start next time)."""
    shutil.rmtree(work_dir, ignore_errors=True)
