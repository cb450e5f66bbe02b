import numpy as np
import pytest

from l3_kedro.avc.batches import AvcPairBatches, keras_input
from l3_kedro.avc.corpus import VideoCache
from l3_kedro.errors import ParameterError


@pytest.fixture(scope="module")
def cache(tiny_manifest):
    return VideoCache(tiny_manifest, short_side=20, frame_rate=None, capacity=64)


def _batches(cache, split="train", subset="music", **kwargs):
    options = dict(
        batch_size=8,
        n_batches=3,
        videos_per_batch=3,
        image_size=16,
        seed=0,
        stream=f"{split}/{subset}",
        augment=split == "train",
        fixed=split != "train",
    )
    options.update(kwargs)
    return AvcPairBatches(cache, cache.indices(subset=subset, split=split), **options)


def test_batch_shapes_and_labels(cache):
    (inputs, labels) = _batches(cache)[0]
    assert inputs["audio"].shape == (8, 48000) and inputs["audio"].dtype == np.float32
    assert inputs["image"].shape == (8, 16, 16, 3)
    assert labels.shape == (8, 2) and np.all(labels.sum(axis=1) == 1)
    assert labels[:, 1].sum() == 4
    assert np.abs(inputs["audio"]).max() > 0.01


def test_batches_are_deterministic_per_epoch(cache):
    a, b = _batches(cache), _batches(cache)
    np.testing.assert_array_equal(a[1][0]["audio"], b[1][0]["audio"])
    np.testing.assert_array_equal(a[1][0]["image"], b[1][0]["image"])
    b.epoch = 1
    assert not np.array_equal(a[1][0]["audio"], b[1][0]["audio"])


def test_fixed_sets_repeat_every_epoch(cache):
    validation = _batches(cache, split="validation", subset="music")
    first = validation[0][0]["image"]
    validation.epoch = 5
    np.testing.assert_array_equal(first, validation[0][0]["image"])


def test_positive_frames_are_shown_inside_the_audio_crop(cache):
    """The frame's own timestamp lies in the crop actually taken, not only the planned time."""
    from l3_kedro.audio.constants import TARGET_SR
    from l3_kedro.avc.sampling import crop_image, crop_start

    batches = _batches(cache, split="validation", subset="music", n_batches=6, batch_size=16)
    positives = 0
    for index in range(len(batches)):
        plan, _ = batches.plan(index)
        (inputs, _) = batches[index]
        for i in np.flatnonzero(plan.label == 1):
            video = cache.get(int(plan.image_video[i]))
            start = crop_start(len(video.audio), plan.audio_start[i], sample_rate=TARGET_SR)
            frame = AvcPairBatches._frame_index(plan, i, video)
            assert start / TARGET_SR <= video.frame_times[frame] < start / TARGET_SR + 1.0
            np.testing.assert_array_equal(
                inputs["image"][i], crop_image(None, video.frames[frame], size=16)
            )
            positives += 1
    assert positives == 48


@pytest.mark.parametrize("split", ["train", "validation", "test"])
def test_pairs_come_from_their_own_split_only(cache, tiny_manifest, split):
    batches = _batches(cache, split=split, subset="environmental")
    allowed = set(cache.indices(subset="environmental", split=split))
    for index in range(len(batches)):
        plan, _ = batches.plan(index)
        used = set(plan.audio_video) | set(plan.image_video)
        assert used <= allowed
    rows = tiny_manifest.iloc[sorted(allowed)]
    assert set(rows["split"]) == {split} and set(rows["subset"]) == {"environmental"}


def test_a_batch_mixes_several_videos(cache):
    plan, _ = _batches(cache, videos_per_batch=3, batch_size=32).plan(0)
    assert len(set(plan.audio_video)) == 3


def test_segments_of_one_video_are_never_negatives_of_each_other(tiny_manifest):
    manifest = tiny_manifest.copy()
    train = manifest.index[(manifest["subset"] == "music") & (manifest["split"] == "train")]
    manifest.loc[train[:2], "video_id"] = "same-youtube-video"  # two segments, one video
    cache = VideoCache(manifest, short_side=20, frame_rate=None, capacity=64)
    batches = _batches(cache, videos_per_batch=3, batch_size=64, n_batches=6)
    for index in range(6):
        plan, _ = batches.plan(index)
        ids = manifest["video_id"].to_numpy()
        neg = plan.label == 0
        assert np.all(ids[plan.audio_video[neg]] != ids[plan.image_video[neg]])


def test_a_split_with_one_video_is_refused(cache):
    one = cache.indices(subset="music", split="test")[:1]
    with pytest.raises(ParameterError, match="at least two"):
        AvcPairBatches(
            cache,
            one,
            batch_size=4,
            n_batches=1,
            videos_per_batch=2,
            image_size=16,
            seed=0,
            stream="test",
            augment=False,
        )


def test_preload_decodes_ahead_and_respects_the_capacity(tiny_manifest):
    small = VideoCache(tiny_manifest, short_side=20, frame_rate=None, capacity=2)
    everything = np.arange(len(tiny_manifest))
    assert small.preload(everything, threads=2) == 2
    assert sorted(small._videos) == [0, 1]  # only what fits, nothing evicted twice
    full = VideoCache(tiny_manifest, short_side=20, frame_rate=None, capacity=64)
    assert full.preload(everything, threads=2) == len(tiny_manifest)
    again = VideoCache(tiny_manifest, short_side=20, frame_rate=None, capacity=64)
    for index in everything:  # the same arrays as decoding on demand
        np.testing.assert_array_equal(full.get(int(index)).audio, again.get(int(index)).audio)
        np.testing.assert_array_equal(full.get(int(index)).frames, again.get(int(index)).frames)


def test_keras_input_gives_the_same_batches_without_autotuning(cache):
    import tensorflow as tf

    batches = _batches(cache)
    batches.epoch = 2
    dataset = keras_input(batches)
    assert isinstance(dataset, tf.data.Dataset)
    assert dataset.options().autotune.enabled is False
    assert int(dataset.cardinality()) == len(batches) == 3
    for index, (inputs, labels) in enumerate(dataset):
        expected_inputs, expected_labels = batches[index]  # epoch read when iterated
        np.testing.assert_array_equal(inputs["audio"].numpy(), expected_inputs["audio"])
        np.testing.assert_array_equal(inputs["image"].numpy(), expected_inputs["image"])
        np.testing.assert_array_equal(labels.numpy(), expected_labels)
    threaded = _batches(cache, workers=2)
    assert keras_input(threaded) is threaded  # Keras' worker threads run without autotuning
