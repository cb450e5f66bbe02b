"""Batches of AVC pairs for Keras, deterministic per (seed, stream, epoch, batch).

:class:`AvcPairBatches` is a ``keras.utils.PyDataset``: worker threads build
the next batches (decoding videos through the shared
:class:`~l3_kedro.avc.corpus.VideoCache`) while the model trains on the
current one, on any Keras backend. Each batch mixes ``videos_per_batch``
videos, taken in turn from a per-epoch shuffle of the split, like the
authors' pool of active streamers.
"""

from __future__ import annotations

import zlib

import keras
import numpy as np

from l3_kedro.audio.constants import TARGET_SR
from l3_kedro.avc.config import AvcTrainingConfig
from l3_kedro.avc.corpus import DecodedVideo, VideoCache
from l3_kedro.avc.sampling import (
    PairPlan,
    crop_audio,
    crop_image,
    crop_start,
    frame_index_at,
    frame_index_inside,
    plan_pairs,
)
from l3_kedro.errors import ParameterError


def stream_key(name: str) -> int:
    """A stable integer for a stream name (seeds differ per split and subset)."""
    return zlib.crc32(name.encode())


class AvcPairBatches(keras.utils.PyDataset):
    """``({"audio": (b, 48000) float32, "image": (b, s, s, 3) uint8}, (b, 2) one-hot)`` batches.

    Parameters
    ----------
    cache : VideoCache
        Decoded videos.
    videos : np.ndarray [shape=(v,), int]
        Cache indices of the videos to sample from (one split of one or more subsets).
    batch_size, n_batches : int
        Pairs per batch and batches per epoch.
    videos_per_batch : int
        Distinct videos mixed into one batch (capped at v).
    image_size : int
        Side of the image crop, in pixels.
    seed : int
        Base seed.
    stream : str
        Name of this stream (e.g. ``"train"`` or ``"test/music"``); different
        streams draw different pairs from the same seed.
    augment : bool
        Training augmentations (True: random crops and flips, audio gain; the
        model adds the colour ones) or centre crops and no gain (False).
    fixed : bool
        Draw the same batches every epoch (validation and test sets).
    workers : int
        Threads preparing batches (0 or 1: in the training thread).
    """

    def __init__(
        self,
        cache: VideoCache,
        videos: np.ndarray,
        *,
        batch_size: int,
        n_batches: int,
        videos_per_batch: int,
        image_size: int,
        seed: int,
        stream: str,
        augment: bool,
        fixed: bool = False,
        workers: int = 0,
    ) -> None:
        super().__init__(workers=max(workers, 1), use_multiprocessing=False, max_queue_size=8)
        self.videos = np.asarray(videos, dtype=np.int64)
        if self.videos.size < 2:
            raise ParameterError(
                f"The {stream!r} split holds {self.videos.size} video(s); AVC needs at least two "
                "(negatives pair audio with another video's frame). Add videos or change "
                "the split fractions."
            )
        self.cache = cache
        # Negatives must come from another *video*: segments sharing a video id
        # (AudioSet YTID) are one group, and a batch holds one segment per group.
        ids = cache.manifest["video_id"].to_numpy()[self.videos]
        self._groups, self._group_of = np.unique(ids, return_inverse=True)
        if self._groups.size < 2:
            raise ParameterError(
                f"The {stream!r} split holds segments of a single video; AVC needs at least "
                "two videos (negatives pair audio with another video's frame)."
            )
        self.batch_size = batch_size
        self.n_batches = n_batches
        self.videos_per_batch = videos_per_batch
        self.image_size = image_size
        self.seed = seed
        self.stream = stream
        self.augment = augment
        self.fixed = fixed
        self.epoch = 0
        self._stream_key = stream_key(stream)

    @classmethod
    def from_config(
        cls,
        cache: VideoCache,
        videos: np.ndarray,
        config: AvcTrainingConfig,
        *,
        stream: str,
        n_batches: int,
        train: bool,
    ) -> AvcPairBatches:
        """Batches with the sizes of ``config``: augmented and fresh every epoch
        (``train``), or centre crops fixed across epochs (validation, test)."""
        return cls(
            cache,
            videos,
            batch_size=config.batch_size,
            n_batches=n_batches,
            videos_per_batch=config.videos_per_batch,
            image_size=config.image_size,
            seed=config.seed,
            stream=stream,
            augment=train,
            fixed=not train,
            workers=config.workers,
        )

    def __len__(self) -> int:
        return self.n_batches

    def on_epoch_end(self) -> None:
        """Epochs are set explicitly (``self.epoch``) by the training loop."""

    def _batch_videos(self, epoch: int, index: int, rng: np.random.Generator) -> np.ndarray:
        """One segment of each of the batch's videos, taken in turn from an epoch shuffle."""
        n_groups = self._groups.size
        order = np.random.default_rng([self.seed, self._stream_key, epoch]).permutation(n_groups)
        count = min(self.videos_per_batch, n_groups)
        groups = order[np.arange(index * count, (index + 1) * count) % n_groups]
        return np.array([rng.choice(self.videos[self._group_of == g]) for g in groups])

    def plan(self, index: int) -> tuple[PairPlan, np.random.Generator]:
        """Where the pairs of batch ``index`` (this epoch) come from, and its generator."""
        if not 0 <= index < self.n_batches:
            raise IndexError(index)
        epoch = 0 if self.fixed else self.epoch
        rng = np.random.default_rng([self.seed, self._stream_key, epoch, index, 1])
        videos = self._batch_videos(epoch, index, rng)
        plan = plan_pairs(
            rng, videos=videos, durations=self.cache.durations, n_pairs=self.batch_size
        )
        return plan, rng

    def __getitem__(self, index: int):
        plan, rng = self.plan(index)
        augment_rng = rng if self.augment else None
        audio = np.empty((self.batch_size, TARGET_SR), dtype=np.float32)
        image = np.empty((self.batch_size, self.image_size, self.image_size, 3), np.uint8)
        for i in range(self.batch_size):
            sound = self.cache.get(int(plan.audio_video[i]))
            crop_audio(
                augment_rng,
                sound.audio,
                start_s=plan.audio_start[i],
                sample_rate=TARGET_SR,
                out=audio[i],
            )
            picture = self.cache.get(int(plan.image_video[i]))
            image[i] = crop_image(
                augment_rng,
                picture.frames[self._frame_index(plan, i, picture)],
                size=self.image_size,
            )
        labels = np.eye(2, dtype=np.float32)[plan.label]
        return {"audio": audio, "image": image}, labels

    @staticmethod
    def _frame_index(plan: PairPlan, i: int, picture: DecodedVideo) -> int:
        """Frame of pair ``i`` in ``picture`` (its image video, decoded).

        A positive's frame is one shown inside the audio crop actually taken
        (``image_time - audio_start`` picks which); a negative's, the frame
        on screen at ``image_time``.
        """
        if plan.label[i] == 1:
            start = crop_start(len(picture.audio), plan.audio_start[i], sample_rate=TARGET_SR)
            fraction = plan.image_time[i] - plan.audio_start[i]
            return frame_index_inside(picture.frame_times, start / TARGET_SR, fraction)
        return frame_index_at(picture.frame_times, plan.image_time[i])

    def materialise(self) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """All batches of the current epoch concatenated (for small fixed sets)."""
        parts = [self[i] for i in range(self.n_batches)]
        inputs = {k: np.concatenate([p[0][k] for p in parts]) for k in ("audio", "image")}
        return inputs, np.concatenate([p[1] for p in parts])


def keras_input(batches: keras.utils.PyDataset):
    """What ``fit`` and ``evaluate`` should get for ``batches``.

    On TensorFlow, Keras wraps a PyDataset made in the training thread
    (``workers`` 0 or 1) in a ``tf.data`` pipeline whose autotuner wakes at
    doubling intervals (10 ms, 20 ms, ... about 5.1 s and 10.2 s after the
    start); deleting the iterator at the end of every ``fit`` or ``evaluate``
    waits for its next wake-up (measured: training epochs of 5.3 s returned
    after 10.3 s, about half of them). So here the same batches go through
    ``from_generator`` and a two-batch prefetch with autotuning off. Worker
    threads (``workers`` > 1; Keras turns autotuning off for them) and other
    backends keep the PyDataset itself.

    Parameters
    ----------
    batches : keras.utils.PyDataset
        Finite; every batch of the same shapes (the first one defines them).

    Returns
    -------
    tf.data.Dataset or keras.utils.PyDataset
    """
    if keras.backend.backend() != "tensorflow" or batches.workers > 1:
        return batches
    import tensorflow as tf

    signature = tf.nest.map_structure(
        lambda array: tf.TensorSpec(array.shape, tf.as_dtype(array.dtype)), batches[0]
    )
    dataset = tf.data.Dataset.from_generator(
        lambda: (batches[i] for i in range(len(batches))), output_signature=signature
    )
    options = tf.data.Options()
    options.autotune.enabled = False
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(batches)))
    return dataset.prefetch(2).with_options(options)
