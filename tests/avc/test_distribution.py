"""Mixed precision under tf.distribute: replicas agree on skipping an overflowed step."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from l3_kedro.avc.distribution import ReplicaSafeLossScaleOptimizer, training_optimizer
from tests.avc.conftest import json_from_child

# Two logical CPUs must be configured before TensorFlow starts: a child process.
_TWO_REPLICAS = """
import json, numpy as np, tensorflow as tf
cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
from l3_kedro.avc.distribution import training_optimizer
keras.config.set_dtype_policy("mixed_float16")
strategy = tf.distribute.MirroredStrategy()
with strategy.scope():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3),
                              keras.layers.Dense(2, activation="softmax", dtype="float32")])
    model.compile(optimizer=training_optimizer(keras.optimizers.Adam(1e-3), model),
                  loss="categorical_crossentropy")
y = np.eye(2, dtype=np.float32)[[0, 1] * 4]
overflow = np.ones((8, 4), np.float32)
overflow[4:] *= 1e5  # the second replica's half of the batch overflows float16
model.fit(overflow, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
after_overflow = [bool(np.isfinite(w).all()) for w in model.get_weights()]
scale = float(model.optimizer.dynamic_scale.numpy())
model.fit(np.ones((8, 4), np.float32), y, batch_size=8, epochs=1, verbose=0, shuffle=False)
print(json.dumps({"replicas": strategy.num_replicas_in_sync, "finite": all(after_overflow),
                  "scale": scale, "steps_applied": int(model.optimizer.iterations.numpy())}))
"""


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.distribute")
def test_an_overflow_on_one_replica_is_skipped_by_all():
    result = json_from_child(_TWO_REPLICAS, timeout=300, TF_CPP_MIN_LOG_LEVEL="2")
    # Keras' own LossScaleOptimizer (3.15) leaves NaN weights here.
    assert result == {"replicas": 2, "finite": True, "scale": 2.0**14, "steps_applied": 1}


def test_float32_models_keep_their_optimizer_and_mixed_ones_round_trip(tmp_path):
    adam = keras.optimizers.Adam(1e-3)
    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    assert training_optimizer(adam, plain) is adam
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        mixed = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, dtype="float32")])
        mixed.compile(optimizer=training_optimizer(keras.optimizers.Adam(1e-3), mixed), loss="mse")
        mixed.fit(np.ones((4, 4)), np.ones((4, 2)), verbose=0)
        mixed.save(tmp_path / "mixed.keras")
        loaded = keras.saving.load_model(tmp_path / "mixed.keras", compile=True)
    finally:
        keras.config.set_dtype_policy(previous)
    assert isinstance(loaded.optimizer, ReplicaSafeLossScaleOptimizer)
    assert float(loaded.optimizer.dynamic_scale.numpy()) == float(
        mixed.optimizer.dynamic_scale.numpy()
    )
