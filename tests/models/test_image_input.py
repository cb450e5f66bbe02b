"""ImageAugmentation: uint8 images scaled in the graph; flip and colour jitter in training."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from l3_kedro.models.image_input import BRIGHTNESS_DELTA, LUMA, ImageAugmentation


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, size=(64, 8, 8, 3), dtype=np.uint8)


def _model(seed=7):
    image = keras.Input((8, 8, 3), dtype="uint8", name="image")
    return keras.Model(image, ImageAugmentation(seed=seed, name="jitter")(image))


def test_inference_only_scales_to_unit_range(images):
    out = keras.ops.convert_to_numpy(ImageAugmentation(seed=1)(images, training=False))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, images / 255.0, rtol=1e-6)


def test_training_flips_and_applies_one_saturation_and_brightness_per_image(images):
    x = images.astype(np.float64) / 255.0
    out = keras.ops.convert_to_numpy(ImageAugmentation(seed=1)(images, training=True))
    saturations, shifts, flips = [], [], []
    for i in range(len(x)):
        fits = []
        for flipped in (False, True):
            source = x[i][:, ::-1] if flipped else x[i]
            gray = source @ np.array(LUMA)[:, None]
            # out = gray + s (x - gray) + b where not clipped: solve for s and b
            inside = (out[i] > 1e-6) & (out[i] < 1 - 1e-6)
            design = np.stack([(source - gray)[inside], np.ones(inside.sum())], axis=1)
            target = (out[i] - gray)[inside]
            (s, b), *_ = np.linalg.lstsq(design, target, rcond=None)
            clipped = np.clip(gray + s * (source - gray) + b, 0, 1)
            fits.append((np.abs(out[i] - clipped).max(), s, b, flipped))
        error, s, b, flipped = min(fits, key=lambda fit: fit[0])
        assert error < 1e-5
        saturations.append(s)
        shifts.append(b)
        flips.append(flipped)
    assert 0.5 <= min(saturations) < 0.6 and 1.4 < max(saturations) <= 1.5
    assert -BRIGHTNESS_DELTA <= min(shifts) < -0.8 * BRIGHTNESS_DELTA
    assert 0.8 * BRIGHTNESS_DELTA < max(shifts) <= BRIGHTNESS_DELTA
    assert 16 <= sum(flips) <= 48  # p = 0.5 over 64 images


def test_draws_follow_the_seed_and_survive_saving(images, tmp_path):
    model = _model()
    first, second = (keras.ops.convert_to_numpy(model(images, training=True)) for _ in range(2))
    assert not np.allclose(first, second)  # fresh draws every step
    again = _model()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(again(images, training=True)), first)
    again.save(tmp_path / "jitter.keras")  # after one draw: the next is `second`
    loaded = keras.saving.load_model(tmp_path / "jitter.keras")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(images, training=True)), second)
    assert isinstance(loaded.get_layer("jitter"), ImageAugmentation)


def test_mixed_precision_output(images):
    layer = ImageAugmentation(seed=1, dtype="mixed_float16")
    out = layer(images, training=True)
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
