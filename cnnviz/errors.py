"""Errors a user can act on. ``str(e)`` is one clear sentence, shown as-is in the app and CLI."""


class CnnvizError(Exception):
    """Base class: a problem with the user's input or environment, not a bug."""


class ImageError(CnnvizError):
    """An uploaded or given image cannot be used."""


class ModelError(CnnvizError):
    """An unknown model, or a model that cannot be built."""


class WeightsUnavailable(ModelError):
    """Pretrained weights are not on this machine and cannot be downloaded now."""


class CheckpointError(ModelError):
    """A checkpoint file is unreadable, unsafe, or does not fit the architecture."""


class DatasetError(CnnvizError):
    """A dataset cannot be read or is unusable for training."""


class Stopped(CnnvizError):
    """Long work (a feature visualisation, an examples pass) stopped before it finished."""
