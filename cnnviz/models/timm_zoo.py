"""timm's CNNs by name: ``timm:convnext_tiny``, ``timm:resnet50d``, ``timm:regnety_008`` ...

timm (PyTorch Image Models) builds about a thousand architectures by name. Any of its CNNs
can be explored here as ``timm:<name>``:

* the architecture from ``timm.create_model(name, pretrained=False)``;
* its preprocessing from timm's own pretrained config (``resolve_data_config``): input size,
  ``resize = floor(size / crop_pct)``, mean, std, bicubic or bilinear;
* trained weights downloaded once when online (the app's Download button, or
  ``python -m cnnviz download timm:<name>``) from the config's Hugging Face repository into
  the torch cache, beside torchvision's, as safetensors (data, never code), and read from
  there offline; random weights otherwise, marked as such like every model's.

Vision transformers and hybrids (any module named ``*Attention*`` or ``PatchEmbed``) are
refused with a sentence: this is a CNN explorer, and its views (filters, feature maps,
receptive fields) assume convolutions throughout.

timm takes seconds to import: it is imported when a timm model is first asked for, never by
the app's other pages or the CLI's other commands.
"""

from __future__ import annotations

import math
import re
import secrets
import shutil
from functools import lru_cache
from pathlib import Path

import torch
from torch import nn

from cnnviz import compat
from cnnviz.errors import ModelError, WeightsUnavailable
from cnnviz.i18n import _
from cnnviz.inputs.checkpoints import load_state_dict_file
from cnnviz.models.preprocess import Preprocess
from cnnviz.models.timm_names import PREFIX, is_timm_name

__all__ = ["PREFIX", "SUGGESTED", "is_timm_name", "check", "build", "preprocess", "fetch", "pretrained"]

# Offered in the sidebar; any other timm CNN can be typed.
SUGGESTED = ("convnext_tiny", "resnet50d", "regnety_008", "efficientnet_b0", "mobilenetv3_large_100")
_NOT_CNN = re.compile(r"Attention|PatchEmbed")


def arch(name: str) -> str:
    """The timm architecture of a model name: ``timm:resnet50d`` → ``resnet50d``.

    Args:
        name: ``timm:ARCH``.

    Returns:
        The architecture name.

    Raises:
        ModelError: it is not a timm name.
    """
    if not is_timm_name(name):
        raise ModelError(
            _("{name} is not a timm model name (timm:NAME, e.g. timm:convnext_tiny).").format(name=repr(name[:80]))
        )
    return name[len(PREFIX) :]


def _timm():
    import timm  # seconds to import: only when a timm model is asked for (module docstring)

    return timm


@lru_cache(maxsize=64)
def check(name: str) -> str:
    """The architecture a timm name builds, checked on the meta device: no memory, no weights.

    Args:
        name: ``timm:ARCH``.

    Returns:
        The architecture name.

    Raises:
        ModelError: (one sentence) timm does not build it, or it is not a CNN.
    """
    a = arch(name)
    timm = _timm()
    if not timm.is_model(a):
        raise ModelError(
            _("timm has no model called {name} (timm {version}); try e.g. timm:convnext_tiny.").format(
                name=repr(a), version=timm.__version__
            )
        )
    model = compat.on_meta(lambda: timm.create_model(a, pretrained=False))
    kinds = sorted({type(m).__name__ for m in model.modules() if _NOT_CNN.search(type(m).__name__)})
    if kinds:
        raise ModelError(
            _(
                "timm:{name} is a vision transformer or mixes attention in ({kinds}); "
                "this app explores convolutional networks only."
            ).format(name=a, kinds=", ".join(kinds[:3]))
        )
    return a


def build(name: str) -> nn.Module:
    """The architecture with random weights (seed first for a fixed initialisation).

    Args:
        name: ``timm:ARCH``.

    Returns:
        A new ``nn.Module``.

    Raises:
        ModelError: as :func:`check`.
    """
    return _timm().create_model(check(name), pretrained=False)


def _config(name: str) -> dict:
    timm = _timm()
    cfg = timm.models.get_pretrained_cfg(check(name))
    return timm.data.resolve_data_config(pretrained_cfg=cfg.to_dict() if cfg else {})


def preprocess(name: str) -> Preprocess:
    """timm's evaluation transform as a Preprocess: resize the shorter side to
    floor(size / crop_pct), centre-crop size×size, normalise with the config's mean/std.

    Args:
        name: ``timm:ARCH``.

    Returns:
        The Preprocess.
    """
    cfg = _config(name)
    size = int(cfg["input_size"][-1])
    return Preprocess(
        size=size,
        resize=math.floor(size / float(cfg["crop_pct"])),
        mean=tuple(float(v) for v in cfg["mean"]),
        std=tuple(float(v) for v in cfg["std"]),
        bicubic=cfg.get("interpolation") == "bicubic",
    )


def default_layer(name: str) -> str:
    """The last feature stage (timm's ``feature_info``): where Grad-CAM looks by default.

    Args:
        name: ``timm:ARCH``.

    Returns:
        Its ``named_modules`` path, or "" when timm names none.
    """
    model = compat.on_meta(lambda: build(name))
    info = getattr(model, "feature_info", None)
    return str(info[-1]["module"]) if info else ""


def num_classes(name: str) -> int:
    """How many classes the pretrained weights score.

    Args:
        name: ``timm:ARCH``.

    Returns:
        The count (1000 when the config names none).
    """
    return int(_timm().models.get_pretrained_cfg(check(name)).num_classes or 1000)


def cache_file(name: str) -> Path:
    """Where the trained weights are (or will be): the torch cache, as torchvision's.

    Args:
        name: ``timm:ARCH``.

    Returns:
        The ``.safetensors`` path.
    """
    return Path(torch.hub.get_dir()) / "checkpoints" / f"timm-{arch(name)}.safetensors"


def available(name: str) -> bool:
    """Whether the trained weights are on this machine.

    Args:
        name: ``timm:ARCH``.

    Returns:
        True when the cache file exists.
    """
    return cache_file(name).is_file()


def offline_message(name: str) -> str:
    """The sentence for weights that are not on this machine, saying how to get them.

    Args:
        name: ``timm:ARCH``.

    Returns:
        One sentence in the reader's language.
    """
    return _(
        "Trained weights for {name} are not on this machine: download them once while online "
        "(the app's Download button, or `python -m cnnviz download {name}`), or choose random weights to explore."
    ).format(name=name)


def pretrained(name: str, download: bool) -> dict[str, torch.Tensor]:
    """The trained state dict, from the torch cache.

    Args:
        name: ``timm:ARCH``.
        download: fetch the weights first when they are missing.

    Returns:
        Parameter name -> tensor.

    Raises:
        WeightsUnavailable: missing and not downloaded (or the download failed).
    """
    path = cache_file(name)
    if not path.is_file():
        if not download:
            raise WeightsUnavailable(offline_message(name))
        fetch(name)
    return load_state_dict_file(path)


def fetch(name: str) -> Path:
    """Download the weights (``model.safetensors`` of the Hugging Face repository: never a
    pickle) into :func:`cache_file`, renamed into place at the end so a broken download leaves
    no file.

    Args:
        name: ``timm:ARCH``.

    Returns:
        The cached file's path.

    Raises:
        WeightsUnavailable: timm names no repository, or the download failed.
    """
    cfg = _timm().models.get_pretrained_cfg(check(name))
    repo = getattr(cfg, "hf_hub_id", None)
    if not repo:
        raise WeightsUnavailable(
            _("timm has no downloadable weights for {name}; choose random weights to explore.").format(name=name)
        )
    from huggingface_hub import hf_hub_download  # comes with timm; only a download needs it

    path = cache_file(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.part")  # one per writer: the cache may be shared
    try:
        got = Path(hf_hub_download(repo_id=repo, filename="model.safetensors", etag_timeout=15))
        shutil.copyfile(got, tmp)
        tmp.replace(path)
    except Exception as e:  # offline, a proxy, a missing file: the message, not a traceback
        raise WeightsUnavailable(
            _("Could not download the weights for {name} (no internet?).").format(name=name)
            + " "
            + offline_message(name)
        ) from e
    finally:
        tmp.unlink(missing_ok=True)
    return path
