"""Audio-visual correspondence (AVC): pair sampling, L3-Net training and evaluation.

- :mod:`~l3_kedro.avc.config`: the training settings, validated once.
- :mod:`~l3_kedro.avc.corpus`: decoded videos (audio + frames) kept in a
  bounded, thread-safe cache.
- :mod:`~l3_kedro.avc.sampling`: which audio crop goes with which frame
  (positives overlap in time, negatives come from another video) and the
  augmentations of docs/reference.md §5.
- :mod:`~l3_kedro.avc.batches`: batches for Keras, deterministic per
  (seed, epoch, batch), prepared by worker threads while the model trains.
- :mod:`~l3_kedro.avc.training`: the resumable training loop with checkpoints.
"""
