"""The project's exception and warning family.

Every error a user can trigger names the file or parameter at fault and says
what to do about it.
"""

from __future__ import annotations


class L3KedroError(Exception):
    """Base class of every error raised by l3_kedro."""


class ParameterError(L3KedroError, ValueError):
    """A parameter (function argument or YAML value) is out of its domain."""


class AudioError(L3KedroError):
    """An audio file or array cannot be used (unreadable, empty, NaN, ...)."""


class DatasetLayoutError(L3KedroError):
    """A dataset on disk does not follow the layout its loader expects."""


class ModelError(L3KedroError):
    """A model or its weights cannot be built or loaded."""


class EvaluationError(L3KedroError):
    """Embeddings or clips cannot go through the downstream protocol as given."""


class ReportingError(L3KedroError):
    """A results table cannot be summarised or tested as asked."""


class VideoError(L3KedroError):
    """A video file cannot be used (no audio stream, unreadable frame, too short ...)."""


class OutputError(L3KedroError, OSError):
    """An output cannot be written: a path that is a file, a permission, a full disk."""


class L3KedroWarning(UserWarning):
    """Base class of every warning issued by l3_kedro."""


class AudioWarning(L3KedroWarning):
    """Audio was usable but unusual (too short, silent, resampled ...)."""
