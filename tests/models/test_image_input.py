"""ImageColourJitter: uint8 images scaled in the graph, colour jitter in training.

The colour jitter is the one of docs/reference.md §5.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from l3_kedro.models.image_input import BRIGHTNESS_DELTA, LUMA, ImageColourJitter


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, size=(64, 8, 8, 3), dtype=np.uint8)


def _model(seed=7):
    image = keras.Input((8, 8, 3), dtype="uint8", name="image")
    return keras.Model(image, ImageColourJitter(seed=seed, name="jitter")(image))


def test_inference_only_scales_to_unit_range(images):
    out = keras.ops.convert_to_numpy(ImageColourJitter(seed=1)(images, training=False))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, images / 255.0, rtol=1e-6)


def test_training_applies_one_saturation_and_brightness_per_image(images):
    x = images.astype(np.float64) / 255.0
    out = keras.ops.convert_to_numpy(ImageColourJitter(seed=1)(images, training=True))
    gray = x @ np.array(LUMA)[:, None]
    saturations, shifts = [], []
    for i in range(len(x)):
        # out = gray + s (x - gray) + b where not clipped: solve for s and b
        inside = (out[i] > 1e-6) & (out[i] < 1 - 1e-6)
        design = np.stack([(x[i] - gray[i])[inside], np.ones(inside.sum())], axis=1)
        target = (out[i] - gray[i])[inside]
        (s, b), *_ = np.linalg.lstsq(design, target, rcond=None)
        np.testing.assert_allclose(design @ [s, b], target, atol=1e-5)
        clipped = np.clip(gray[i] + s * (x[i] - gray[i]) + b, 0, 1)
        np.testing.assert_allclose(out[i], clipped, atol=1e-5)
        saturations.append(s)
        shifts.append(b)
    assert 0.5 <= min(saturations) < 0.6 and 1.4 < max(saturations) <= 1.5
    assert -BRIGHTNESS_DELTA <= min(shifts) < -0.8 * BRIGHTNESS_DELTA
    assert 0.8 * BRIGHTNESS_DELTA < max(shifts) <= BRIGHTNESS_DELTA


def test_draws_follow_the_seed_and_survive_saving(images, tmp_path):
    model = _model()
    first, second = (keras.ops.convert_to_numpy(model(images, training=True)) for _ in range(2))
    assert not np.allclose(first, second)  # fresh draws every step
    again = _model()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(again(images, training=True)), first)
    again.save(tmp_path / "jitter.keras")  # after one draw: the next is `second`
    loaded = keras.saving.load_model(tmp_path / "jitter.keras")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(images, training=True)), second)
    assert isinstance(loaded.get_layer("jitter"), ImageColourJitter)


def test_mixed_precision_output(images):
    layer = ImageColourJitter(seed=1, dtype="mixed_float16")
    out = layer(images, training=True)
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
