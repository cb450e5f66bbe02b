"""In-graph image input of the AVC vision tower: uint8 pixels in, colour jitter in training.

The input pipeline ships uint8 RGB crops (already cropped and flipped, see
:func:`l3_kedro.avc.sampling.crop_image`): four times fewer bytes to make,
queue and copy to an accelerator than float32. This layer scales them to
[0, 1] on the device and, in training only, applies the colour
augmentation of docs/reference.md §5 per image: saturation x U(0.5, 1.5) and a brightness shift of
up to 32/255, clipped to [0, 1]. (Saturation, ``gray + s (x - gray)`` with
``gray = x . luma``, and a brightness shift commute because the luma weights
sum to 1, so the random order of the two (docs/reference.md §5) changes nothing.)

The random draws come from a seeded ``keras.random.SeedGenerator`` whose
state is saved with the model, so a resumed training run draws what an
uninterrupted one would have drawn. Under a ``tf.distribute`` strategy each
replica draws for the whole global batch and keeps its own share, so every
image gets the draw it would get on one device (and replicas, whose seed
states are mirrored, do not repeat each other's draws).
"""

from __future__ import annotations

import keras
from keras import ops

SATURATION_RANGE = (0.5, 1.5)
"""Image saturation factor range (uniform)."""

BRIGHTNESS_DELTA = 32.0 / 255.0
"""Largest additive brightness change, on images scaled to [0, 1]."""

LUMA = (0.299, 0.587, 0.114)
"""RGB weights of the gray level that saturation moves away from."""

_SEED_KEY = "seed_state"


def _replica_position():
    """``(replicas in sync, this replica's index)`` under ``tf.distribute``, else ``(1, 0)``."""
    if keras.backend.backend() != "tensorflow":
        return 1, 0
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return 1, 0
    return context.num_replicas_in_sync, context.replica_id_in_sync_group


@keras.saving.register_keras_serializable(package="l3_kedro")
class ImageColourJitter(keras.layers.Layer):
    """uint8 RGB images -> float images in [0, 1], colour-jittered in training.

    Parameters
    ----------
    seed : int or None
        Seed of the augmentation draws (None: from Keras' global seed, which
        ``keras.utils.set_random_seed`` fixes).

    Call arguments: ``images`` [shape=(b, h, w, 3), uint8 or float in 0..255],
    ``training``. Returns (b, h, w, 3) in the layer's compute dtype.
    """

    def __init__(self, seed: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="colour_jitter_seed")

    def call(self, images, training: bool | None = None):
        x = ops.cast(images, "float32") / 255.0
        if training:
            batch = ops.shape(x)[0]
            replicas, replica = _replica_position()
            saturation = keras.random.uniform(
                (batch * replicas, 1, 1, 1), *SATURATION_RANGE, seed=self.seed_generator
            )
            brightness = keras.random.uniform(
                (batch * replicas, 1, 1, 1),
                -BRIGHTNESS_DELTA,
                BRIGHTNESS_DELTA,
                seed=self.seed_generator,
            )
            if replicas > 1:  # this replica's share of the global batch's draws
                saturation = saturation[replica * batch : (replica + 1) * batch]
                brightness = brightness[replica * batch : (replica + 1) * batch]
            gray = ops.sum(x * ops.convert_to_tensor(LUMA, "float32"), axis=-1, keepdims=True)
            x = ops.clip(gray + saturation * (x - gray) + brightness, 0.0, 1.0)
        return ops.cast(x, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "seed": self.seed}

    # The seed generator's state is not among Keras' saved layer variables;
    # saving it makes a resumed run continue the same random stream.
    def save_own_variables(self, store) -> None:
        store[_SEED_KEY] = self.seed_generator.state

    def load_own_variables(self, store) -> None:
        if _SEED_KEY in store:
            self.seed_generator.state.assign(store[_SEED_KEY])
