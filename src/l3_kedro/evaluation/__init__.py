"""The paper's downstream classification protocol (sections 3.2-3.3) as a library.

:func:`evaluate_store` runs it on an embedding store
(:class:`~l3_kedro.datasets.EmbeddingStore`) and returns an
:class:`EvaluationResult`. Decisions the paper leaves open, and how they are
settled here:

- **Folds.** Every predefined fold in turn is the test fold, or only those in
  ``test_folds`` (DCASE 2013 SCD: ``[2]``, trained on fold 1). The test fold
  is read only after model selection, with the scaler of the training
  windows: it takes no part in scaling, training or the grid choice.
- **Validation.** ``validation_fraction`` (10 %) of the training clips,
  stratified by class (largest-remainder shares), drawn by source: the clips
  of one source recording (the clip table's ``source_id``: an UrbanSound8K
  ``fsID``, an ESC-50 ``src_file``, an FSDD speaker) are all held out or all
  kept, as the predefined folds keep them, so the validation score measures
  generalisation to new recordings as the test does; and the overlapping
  windows of a clip never straddle training and validation. Seeded by
  ``(seed, test_fold)``.
- **Standardisation.** Mean and population standard deviation per dimension,
  fitted in one streaming pass on the windows the MLP is trained on (the
  training split minus its validation clips); constant dimensions get scale 1.
- **Early stopping** monitors :data:`~l3_kedro.evaluation.mlp.EARLY_STOPPING_MONITOR`,
  the window-level validation cross-entropy without the L2 term (the authors'
  code monitored ``val_loss``), computed after every epoch; training stops
  after ``patience`` epochs in a row without a new minimum, or after
  ``epochs``, and the weights of the best epoch are restored.
- **Grid choice** by the clip-level accuracy on the validation clips (windows
  summed as at test time), ties broken by validation window accuracy, then
  validation cross-entropy, then grid order. Every grid point's validation
  scores are reported.
- **Clip prediction** is the argmax of the summed window likelihoods; ties go
  to the lower class position.
- **Seeds.** One seed drives the validation split, the initial weights and
  the window order; on CPU the same seed gives the same numbers (tested,
  without TensorFlow's op determinism). On a GPU, bitwise repeatability also
  needs ``tf.config.experimental.enable_op_determinism()``, which is global
  and so left to the caller.
- **Memory.** The store is read in chunks; a fold's training and validation
  windows are held once, standardised, as float16 and shared by every grid
  point; batches are cast to float32 one at a time. The test windows are read
  after the training matrices are released. One compiled MLP serves every
  fold and grid point (weights and Adam state reset each time), and epochs
  run as a loop of compiled steps rather than ``fit``: Keras on TensorFlow
  never frees a trained model, and ``fit`` on a Python data source keeps the
  fold's matrix alive (see :mod:`l3_kedro.evaluation.mlp`). Peak memory is
  about ``2 * D * (n_train + n_val windows)`` bytes plus TensorFlow (about
  0.9 GB) and a few 64 MB read buffers; folds under 256 MB are also copied
  into TensorFlow once, to run each epoch as one compiled call.
"""

from l3_kedro.evaluation.aggregate import (
    ClipMetrics,
    clip_metrics,
    predict_clips,
    sum_clip_likelihoods,
    window_accuracy,
)
from l3_kedro.evaluation.clips import check_against_clip_table, code_classes
from l3_kedro.evaluation.config import GRID_KEYS, ProtocolConfig
from l3_kedro.evaluation.features import (
    Scaler,
    WindowSet,
    fit_scaler,
    load_scaled,
    load_windows,
    window_rows,
)
from l3_kedro.evaluation.fold import FoldOutcome, evaluate_fold
from l3_kedro.evaluation.grid import search_grid
from l3_kedro.evaluation.mlp import (
    EARLY_STOPPING_MONITOR,
    HIDDEN_UNITS,
    DownstreamMLP,
    TrainingRun,
    WeightDecay,
    WindowBatches,
    build_mlp,
)
from l3_kedro.evaluation.protocol import EvaluationResult, evaluate_store, run_protocol
from l3_kedro.evaluation.splits import FoldSplit, plan_test_folds, split_fold, stratified_holdout

__all__ = [
    "EARLY_STOPPING_MONITOR",
    "GRID_KEYS",
    "HIDDEN_UNITS",
    "ClipMetrics",
    "DownstreamMLP",
    "EvaluationResult",
    "FoldOutcome",
    "FoldSplit",
    "ProtocolConfig",
    "Scaler",
    "TrainingRun",
    "WeightDecay",
    "WindowBatches",
    "WindowSet",
    "build_mlp",
    "check_against_clip_table",
    "clip_metrics",
    "code_classes",
    "evaluate_fold",
    "evaluate_store",
    "fit_scaler",
    "load_scaled",
    "load_windows",
    "plan_test_folds",
    "predict_clips",
    "run_protocol",
    "search_grid",
    "split_fold",
    "stratified_holdout",
    "sum_clip_likelihoods",
    "window_accuracy",
    "window_rows",
]
