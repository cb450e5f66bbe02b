"""BatchNormalization with TensorFlow's fused training kernel.

Keras 3 computes a training-mode BatchNorm from separate ops (moments, then
normalise) on every backend, and TensorFlow differentiates them op by op.
On a CPU that is a large part of a small L3-Net's training step: the
spectrogram-sized activations of the first audio blocks are passed over
many times. TensorFlow's ``FusedBatchNormV3`` (oneDNN on CPU, cuDNN on GPU)
does the forward pass and its gradient in one kernel each.

:class:`FusedBatchNormalization` is Keras' layer with that one path
changed: on the TensorFlow backend, in training mode, for a 4-D
channels-last input without mask, renorm or synchronisation. The batch
statistics are the same (mean and biased variance over batch and space),
and the moving statistics are updated with them exactly as Keras does, so
weights and saved models mean the same thing. Inference, other backends
(JAX fuses on its own through XLA) and every other configuration run
Keras' code unchanged.
"""

from __future__ import annotations

import keras

__all__ = ["FusedBatchNormalization"]

# TensorFlow raises smaller epsilons to this (a cuDNN limit); keep them on Keras' path.
_FUSED_MIN_EPSILON = 1.001e-5


@keras.saving.register_keras_serializable(package="l3_kedro")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """``keras.layers.BatchNormalization`` trained through TensorFlow's fused kernel.

    Same constructor, weights and results as the Keras layer (to float32
    round-off); see the module docstring for when the fused path applies.
    """

    def _uses_fused_kernel(self, inputs, training, mask) -> bool:
        return (
            bool(training)
            and self.trainable
            and mask is None
            and keras.backend.backend() == "tensorflow"
            and len(inputs.shape) == 4
            and self.axis in (-1, 3)
            and self.center
            and self.scale
            and not self.renorm
            and not self.synchronized
            and self.epsilon >= _FUSED_MIN_EPSILON
        )

    def call(self, inputs, training=None, mask=None):
        if not self._uses_fused_kernel(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        # The kernel takes float16/bfloat16/float32 activations with float32
        # statistics, and accumulates in float32.
        outputs, mean, unbiased_variance = tf.compat.v1.nn.fused_batch_norm(
            inputs,
            tf.cast(self.gamma, "float32"),
            tf.cast(self.beta, "float32"),
            epsilon=self.epsilon,
            is_training=True,
        )
        # The kernel returns the Bessel-corrected variance for running
        # averages; Keras averages the biased one (the one it normalises with).
        count = tf.cast(tf.reduce_prod(tf.shape(inputs)[:-1]), "float32")
        variance = unbiased_variance * (count - 1.0) / tf.maximum(count, 1.0)
        momentum = self.momentum
        self.moving_mean.assign(self.moving_mean * momentum + mean * (1.0 - momentum))
        self.moving_variance.assign(self.moving_variance * momentum + variance * (1.0 - momentum))
        return tf.cast(outputs, self.compute_dtype)
