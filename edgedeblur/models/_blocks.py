"""Small named building blocks shared by every zoo family, each INT8- and converter-friendly.

Why these shapes:

* Every activation is bounded (ReLU6 or a hard clamp) so INT8 scales stay fine-grained.
* Downsampling never uses a stride-2 conv whose padding differs from TFLite's ``SAME``
  (a 3x3 stride-2 conv with padding 1 lowers to PAD + VALID conv and breaks LiteRT's INT8
  "same scale" rule). We use kernel 4 / stride 2 / padding 1 (symmetric SAME) or 2x2 stride 2.
* Upsampling is bilinear resize followed by a conv (or a 1x1 conv then resize: they commute),
  never a wide 1x1 conv feeding PixelShuffle (measured: activation ranges of ~240).
* BatchNorm is folded and re-parameterised branches merged by :func:`fuse_for_deploy`,
  so the deploy graph has only conv / add / mul / resize / clamp.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

__all__ = [
    "ConvBNAct",
    "InvertedResidual",
    "Down",
    "UpResize",
    "ResizeConv",
    "RepConv3x3",
    "ClampResidualHead",
    "ResBlock",
    "SimpleGate",
    "SimplifiedChannelAttention",
    "NAFBlockLite",
    "fold_bn_into_next_conv",
    "fuse_conv_bn",
    "fuse_for_deploy",
]


def _act(name: str | None) -> nn.Module:
    """Bounded activations only: 'relu6' (default), 'relu' (for features then bounded later), None."""
    if name is None:
        return nn.Identity()
    if name == "relu6":
        return nn.ReLU6(inplace=False)
    if name == "relu":
        return nn.ReLU(inplace=False)
    raise ValueError(f"unsupported activation {name!r}: use 'relu6', 'relu' or None")


def fuse_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """Return a conv whose output equals ``bn(conv(x))`` in eval mode (new module, copies weights)."""
    fused = nn.Conv2d(
        conv.in_channels,
        conv.out_channels,
        conv.kernel_size,
        conv.stride,
        conv.padding,
        conv.dilation,
        conv.groups,
        bias=True,
        padding_mode=conv.padding_mode,
    )
    std = torch.sqrt(bn.running_var + bn.eps)
    gamma = bn.weight if bn.affine else torch.ones_like(std)
    beta = bn.bias if bn.affine else torch.zeros_like(std)
    scale = gamma / std
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    with torch.no_grad():
        fused.weight.copy_(conv.weight * scale.reshape(-1, 1, 1, 1))
        fused.bias.copy_(beta + (bias - bn.running_mean) * scale)
    return fused.to(conv.weight.device)


class ConvBNAct(nn.Module):
    """Conv -> BatchNorm -> bounded activation; folds to a single conv (+ activation) for deploy."""

    def __init__(
        self,
        cin: int,
        cout: int,
        k: int = 3,
        stride: int = 1,
        groups: int = 1,
        act: str | None = "relu6",
        padding: int | None = None,
        bn: bool = True,
    ) -> None:
        super().__init__()
        pad = (k - 1) // 2 if padding is None else padding
        self.conv = nn.Conv2d(cin, cout, k, stride, pad, groups=groups, bias=not bn)
        self.bn = nn.BatchNorm2d(cout) if bn else nn.Identity()
        self.act = _act(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))

    def fuse_(self) -> None:
        """Fold the BatchNorm into the conv in place (eval statistics)."""
        if isinstance(self.bn, nn.BatchNorm2d):
            self.conv = fuse_conv_bn(self.conv, self.bn)
            self.bn = nn.Identity()


class Down(nn.Module):
    """Stride-2 downsampling with kernel 4, padding 1: symmetric, so TFLite needs no PAD op."""

    def __init__(self, cin: int, cout: int, act: str | None = "relu6", depthwise: bool = False):
        super().__init__()
        if depthwise:
            self.body = nn.Sequential(
                ConvBNAct(cin, cin, 4, 2, groups=cin, act=act, padding=1),
                ConvBNAct(cin, cout, 1, act=act),
            )
        else:
            self.body = ConvBNAct(cin, cout, 4, 2, act=act, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand (ReLU6) -> depthwise (ReLU6) -> 1x1 linear project (+ skip).

    Stride 2 uses a 4x4 depthwise kernel with padding 1 (see module docstring); stride 1 uses
    ``kernel`` (odd: 3 or 5, symmetric SAME padding).
    """

    def __init__(self, cin: int, cout: int, stride: int = 1, expand: int = 4, kernel: int = 3) -> None:
        super().__init__()
        hidden = cin * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(ConvBNAct(cin, hidden, 1))
        k, pad = (4, 1) if stride == 2 else (kernel, (kernel - 1) // 2)
        layers.append(ConvBNAct(hidden, hidden, k, stride, groups=hidden, padding=pad))
        layers.append(ConvBNAct(hidden, cout, 1, act=None))
        self.body = nn.Sequential(*layers)
        self.use_skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.use_skip else y


class UpResize(nn.Module):
    """x2 upsampling: 1x1 conv at low resolution (cheap) then bilinear resize.

    A 1x1 conv and a bilinear resize commute up to the activation, so doing the channel change
    first costs 4x fewer MACs than resize-then-conv; the activation stays bounded (ReLU6).
    """

    def __init__(self, cin: int, cout: int, mode: str = "bilinear", act: str | None = "relu6") -> None:
        super().__init__()
        self.proj = ConvBNAct(cin, cout, 1, act=act)
        self.up = nn.Upsample(scale_factor=2, mode=mode, **({"align_corners": False} if mode == "bilinear" else {}))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.up(self.proj(x))


class ResizeConv(nn.Module):
    """x2 upsampling the other way round: bilinear resize, then a 3x3 ConvBNAct (ReLU6).

    4x the MACs of :class:`UpResize` but a real 3x3 spatial filter at the higher resolution
    (smooths the bilinear grid); both lower to RESIZE_BILINEAR + CONV_2D.
    """

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.conv = ConvBNAct(cin, cout, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.up(x))


class RepConv3x3(nn.Module):
    """RepVGG-style block: 3x3+BN, 1x1+BN and identity-BN branches, merged into one 3x3 conv."""

    def __init__(self, channels: int, act: str | None = "relu6") -> None:
        super().__init__()
        self.c = channels
        self.k3 = ConvBNAct(channels, channels, 3, act=None)
        self.k1 = ConvBNAct(channels, channels, 1, act=None)
        self.idn: nn.Module = nn.BatchNorm2d(channels)
        self.merged: nn.Conv2d | None = None
        self.act = _act(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.merged is not None:
            return self.act(self.merged(x))
        return self.act(self.k3(x) + self.k1(x) + self.idn(x))

    def fuse_(self) -> None:
        """Merge the three branches into a single 3x3 conv (exact in eval mode)."""
        if self.merged is not None:
            return
        self.k3.fuse_()
        self.k1.fuse_()
        w = self.k3.conv.weight.detach().clone()
        b = self.k3.conv.bias.detach().clone()
        w[:, :, 1:2, 1:2] += self.k1.conv.weight.detach()
        b += self.k1.conv.bias.detach()
        eye = torch.zeros(self.c, self.c, 1, 1, device=w.device)
        eye[torch.arange(self.c), torch.arange(self.c)] = 1.0
        ident = nn.Conv2d(self.c, self.c, 1, bias=False).to(w.device)
        with torch.no_grad():
            ident.weight.copy_(eye)
        idc = fuse_conv_bn(ident, self.idn)
        w[:, :, 1:2, 1:2] += idc.weight.detach()
        b += idc.bias.detach()
        merged = nn.Conv2d(self.c, self.c, 3, 1, 1, bias=True).to(w.device)
        with torch.no_grad():
            merged.weight.copy_(w)
            merged.bias.copy_(b)
        self.merged = merged
        del self.k3, self.k1, self.idn


class ClampResidualHead(nn.Module):
    """Final 3x3 conv to RGB, global residual ``x + f(x)``, then clamp to [0, 1].

    The clamp lowers to Clip / RELU_0_TO_1 and gives the output tensor an exact [0, 1] range,
    which is what an INT8 output with scale 1/255 wants.
    """

    def __init__(self, cin: int, cout: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, 1, 1)

    def forward(self, feats: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp(x + self.conv(feats), 0.0, 1.0)


class ResBlock(nn.Module):
    """conv-BN-ReLU6 -> conv-BN (+ skip) -> ReLU6: SRN/EDSR-style, bounded output for INT8.

    ``kernel`` is the size of both dense convs (odd, symmetric SAME padding).
    """

    def __init__(self, channels: int, kernel: int = 3) -> None:
        super().__init__()
        self.body = nn.Sequential(ConvBNAct(channels, channels, kernel),
                                  ConvBNAct(channels, channels, kernel, act=None))
        self.act = nn.ReLU6()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x + self.body(x))


class SimpleGate(nn.Module):
    """NAFNet's gate ``a * b`` over a channel split, with hard clamps so INT8 ranges stay bounded.

    ``clip`` bounds both halves and the product (``None`` disables it: the paper's form).
    ``no_minimum`` computes the same clamp as ``c - relu(c - max(x, -c))``: ai-edge-quantizer
    has no INT8 MINIMUM kernel (a ``clamp`` lowers to MAXIMUM + MINIMUM and the MINIMUM stays
    float), while MAXIMUM, SUB and RELU all quantize.
    """

    def __init__(self, clip: float | None = 6.0, no_minimum: bool = False) -> None:
        super().__init__()
        self.clip = clip
        self.no_minimum = no_minimum

    def _clamp(self, x: torch.Tensor, c: float) -> torch.Tensor:
        if self.no_minimum:
            return c - torch.relu(c - torch.clamp(x, min=-c))
        return torch.clamp(x, -c, c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = x.chunk(2, dim=1)
        if self.clip is None:
            return a * b
        c = self.clip
        return self._clamp(self._clamp(a, c) * self._clamp(b, c), c)


class SimplifiedChannelAttention(nn.Module):
    """NAFNet's SCA: global average pool -> 1x1 conv -> channel-wise multiply (no sigmoid)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.conv = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.conv(self.pool(x))


def fold_bn_into_next_conv(bn: nn.BatchNorm2d, conv: nn.Conv2d) -> nn.Conv2d:
    """Return a 1x1 conv equal to ``conv(bn(x))`` in eval mode (pre-normalisation folding).

    Only exact for 1x1, ungrouped convs (no zero padding sees the BN shift), which is where
    NAFNet puts its norms.
    """
    if conv.kernel_size != (1, 1) or conv.groups != 1:
        raise ValueError("pre-BN folding needs an ungrouped 1x1 conv")
    scale = (bn.weight if bn.affine else 1.0) / torch.sqrt(bn.running_var + bn.eps)
    shift = (bn.bias if bn.affine else 0.0) - bn.running_mean * scale
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, 1, bias=True).to(conv.weight.device)
    w = conv.weight.detach()
    bias = conv.bias.detach() if conv.bias is not None else torch.zeros(conv.out_channels)
    with torch.no_grad():
        fused.weight.copy_(w * scale.reshape(1, -1, 1, 1))
        fused.bias.copy_(bias + w[:, :, 0, 0] @ shift)
    return fused


class NAFBlockLite(nn.Module):
    """NAFNet block with BatchNorm in place of LayerNorm, folded away by ``fuse_``.

    ``x + beta * pw2(SCA(gate(dw(pw1(norm1(x))))))``, then ``y + gamma * ffn2(gate(ffn1(norm2(y))))``.
    On deploy the norms fold into ``pw1``/``ffn1`` and ``beta``/``gamma`` into ``pw2``/``ffn2``:
    only 1x1/depthwise convs, clamps, multiplies, a global mean and adds remain.

    ``kernel`` is the depthwise kernel (odd). ``sca=False`` drops the channel attention: its
    global mean makes the output depend on the tile size, which a tiled runtime cannot match.
    """

    def __init__(self, c: int, dw_expand: int = 2, ffn_expand: int = 2, gate_clip: float | None = 6.0,
                 kernel: int = 3, sca: bool = True):
        super().__init__()
        dw_c, ffn_c = c * dw_expand, c * ffn_expand
        self.norm1: nn.Module = nn.BatchNorm2d(c)
        self.pw1 = nn.Conv2d(c, dw_c, 1)
        self.dw = nn.Conv2d(dw_c, dw_c, kernel, 1, (kernel - 1) // 2, groups=dw_c)
        # the MINIMUM-free clamp (same numbers): a plain clamp left float MINIMUM ops in tflite-int8
        self.gate = SimpleGate(gate_clip, no_minimum=True)
        self.sca: nn.Module = SimplifiedChannelAttention(dw_c // 2) if sca else nn.Identity()
        self.pw2 = nn.Conv2d(dw_c // 2, c, 1)
        self.norm2: nn.Module = nn.BatchNorm2d(c)
        self.ffn1 = nn.Conv2d(c, ffn_c, 1)
        self.ffn2 = nn.Conv2d(ffn_c // 2, c, 1)
        # NAFNet starts every block as the identity (beta = gamma = 0)
        self.beta: nn.Parameter | None = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.gamma: nn.Parameter | None = nn.Parameter(torch.zeros(1, c, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pw2(self.sca(self.gate(self.dw(self.pw1(self.norm1(x))))))
        y = x + (y if self.beta is None else y * self.beta)
        z = self.ffn2(self.gate(self.ffn1(self.norm2(y))))
        return y + (z if self.gamma is None else z * self.gamma)

    def fuse_(self) -> None:
        """Fold both norms into the following 1x1 convs and the layer scales into the last ones."""
        if self.beta is None:
            return
        self.pw1 = fold_bn_into_next_conv(self.norm1, self.pw1)
        self.ffn1 = fold_bn_into_next_conv(self.norm2, self.ffn1)
        with torch.no_grad():
            for conv, scale in ((self.pw2, self.beta), (self.ffn2, self.gamma)):
                conv.weight.mul_(scale.reshape(-1, 1, 1, 1))
                conv.bias.mul_(scale.reshape(-1))
        self.norm1 = nn.Identity()
        self.norm2 = nn.Identity()
        self.beta = None
        self.gamma = None


def fuse_for_deploy(model: nn.Module) -> nn.Module:
    """Return an eval-mode deep copy with every ``fuse_()``-capable block folded.

    Children are fused before parents so a parent can rely on fused children.
    """
    deployed = copy.deepcopy(model).eval()
    for module in reversed(list(deployed.modules())):
        fuse = getattr(module, "fuse_", None)
        if callable(fuse):
            fuse()
    return deployed
