"""The public, OpenL3-style API: embed audio arrays and files with L3-Net.

Arrays: :mod:`l3_kedro.api.clips`; files to ``.npz``: :mod:`l3_kedro.api.files`.

Conventions follow the released OpenL3 (0.4) so that code written for it
carries over:

- audio arrays are ``(n,)`` mono or ``(n, channels)`` (channels **last**, as
  ``soundfile.read`` returns them); channels are averaged. The project's own
  loaders (:func:`~l3_kedro.audio.load_audio`, :func:`~l3_kedro.audio.mono_float32`)
  use ``(channels, n)``; an array that looks channels-first (more channels
  than samples) is refused with a message saying to transpose it;
- any sampling rate is resampled to 48 kHz with soxr (very high quality);
- 1 s windows every ``hop_size`` seconds; with ``center=True`` the first
  window is centred on time 0; timestamps are ``i * hop_size`` seconds;
- audio shorter than 1 s is zero-padded and all-zero audio is embedded as
  is, each with an :class:`~l3_kedro.errors.AudioWarning`; NaN or Inf is an
  :class:`~l3_kedro.errors.AudioError` naming the clip.

Without ``weights`` the network is randomly initialised (a baseline, not a
pretrained model); call ``keras.utils.set_random_seed`` first for a
reproducible one.
"""

from l3_kedro.api.clips import get_audio_embedding, load_audio_embedding_model, preprocess_audio
from l3_kedro.api.files import get_output_path, process_audio_file

__all__ = [
    "get_audio_embedding",
    "get_output_path",
    "load_audio_embedding_model",
    "preprocess_audio",
    "process_audio_file",
]
