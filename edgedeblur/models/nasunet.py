"""nasunet: the searchable U-Net family behind ``edge-nas``; one genome = one network.

The genome (see :mod:`edgedeblur.models.nasunet_space`) picks per resolution level the width, the number
of encoder blocks and their type (MobileNetV2 inverted residual "ir", dense residual "plain",
NAFNet-lite "naf" without channel attention), depthwise/dense kernel 3 or 5 and expansion;
globally the skip merge (add, or concat + 1x1 ConvBNAct), the upsampling and the decoder block.
Shape as mnv2unet: 3x3 stem -> per level ``Down`` (4x4 depthwise stride 2, no PAD op) + blocks
-> decoder (upsample, merge the skip, one block per level) -> clamped global residual head.
``genome_from_mnv2unet(size)`` rebuilds each mnv2unet variant with the same params and MACs.

Registered: ``nasunet_deblur`` / ``nasunet_denoise`` (default genome = mnv2unet "s", no
weights; ``create_model(name, genome=g)`` builds any genome) and one entry per
``genomes/<name>.json`` file, schema ``{"name", "task", "genome", "search": {...}}``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import ConfigError, EdgeDeblurError
from ._base import ZooModel, encode_levels
from ._blocks import (
    ClampResidualHead,
    ConvBNAct,
    Down,
    InvertedResidual,
    NAFBlockLite,
    ResBlock,
    ResizeConv,
    UpResize,
)
from ._registry import TASKS, register_model
from .nasunet_space import describe_genome, genome_from_mnv2unet, validate_genome

__all__ = ["NASUNet", "GENOMES_DIR", "load_genome_file", "register_genome_file", "make_block", "make_up"]

GENOMES_DIR = Path(__file__).resolve().parent / "genomes"


def make_block(kind: str, channels: int, kernel: int, expand: int) -> nn.Module:
    """One stride-1, channel-preserving block of the space (see the module docstring)."""
    if kind == "ir":
        return InvertedResidual(channels, channels, 1, expand, kernel=kernel)
    if kind == "plain":
        return ResBlock(channels, kernel=kernel)
    if kind == "naf":
        return NAFBlockLite(channels, expand, expand, kernel=kernel, sca=False)
    raise ConfigError("unknown block type", given=kind, allowed="ir, plain, naf")


def make_up(kind: str, cin: int, cout: int) -> nn.Module:
    """x2 upsampling from ``cin`` to ``cout`` channels."""
    if kind == "conv_bilinear":
        return UpResize(cin, cout)
    if kind == "conv_nearest":
        return UpResize(cin, cout, mode="nearest")
    if kind == "bilinear_conv":
        return ResizeConv(cin, cout)
    raise ConfigError("unknown upsampling", given=kind, allowed="conv_bilinear, conv_nearest, bilinear_conv")


def _blocks(level: dict) -> list[nn.Module]:
    return [make_block(level["block"], level["width"], level["kernel"], level["expand"])
            for _ in range(level["depth"])]


class NASUNet(ZooModel):
    """U-Net built from a genome; ``self.genome`` keeps the normalised genome it was built from."""

    def __init__(self, genome: dict | None = None) -> None:
        super().__init__()
        g = validate_genome(genome if genome is not None else genome_from_mnv2unet("s"))
        self.genome = g
        levels = g["levels"]
        widths = [lv["width"] for lv in levels]
        self.pad_multiple = 2 ** (len(levels) - 1)
        self.concat = g["skip"] == "concat"
        self.stem = ConvBNAct(3, widths[0], 3)
        self.enc0 = nn.Sequential(*_blocks(levels[0]))
        self.downs = nn.ModuleList(
            nn.Sequential(Down(widths[i - 1], widths[i], depthwise=True), *_blocks(levels[i]))
            for i in range(1, len(levels)))
        self.ups = nn.ModuleList()
        self.fuses = nn.ModuleList()  # concat only: 1x1 ConvBNAct (ReLU6) back to the level width
        self.merges = nn.ModuleList()
        for i in range(len(levels) - 1, 0, -1):
            lv = levels[i - 1]
            self.ups.append(make_up(g["up"], widths[i], lv["width"]))
            if self.concat:
                self.fuses.append(ConvBNAct(2 * lv["width"], lv["width"], 1))
            self.merges.append(make_block(g["decoder_block"], lv["width"], lv["kernel"], lv["expand"]))
        self.head = ClampResidualHead(widths[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat, skips = encode_levels(x, self.stem, self.enc0, self.downs)
        for j, (up, merge) in enumerate(zip(self.ups, self.merges, strict=True)):
            feat, skip = up(feat), skips.pop()
            feat = self.fuses[j](torch.cat([feat, skip], dim=1)) if self.concat else feat + skip
            feat = merge(feat)
        return self.head(feat, x)


def nasunet(**kwargs: Any) -> NASUNet:
    """Factory for every registered nasunet entry (``genome=`` is the architecture)."""
    return NASUNet(**kwargs)


def load_genome_file(path: Path) -> dict:
    """Read and check ``genomes/<name>.json``; errors name the file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"unreadable genome file ({exc})", path=path) from exc
    keys = {"name", "task", "genome", "search"}
    if not isinstance(data, dict) or set(data) != keys:
        raise ConfigError("genome file must be an object with exactly these keys", path=path,
                          given=sorted(data) if isinstance(data, dict) else type(data).__name__,
                          allowed=sorted(keys), hint='write {"name", "task", "genome", "search": {}}')
    if data["name"] != path.stem:
        raise ConfigError("genome file name must equal its 'name'", path=path, given=data["name"],
                          allowed=path.stem, hint=f"rename the file to {data['name']}.json or fix 'name'")
    if data["task"] not in TASKS:
        raise ConfigError("bad task in genome file", path=path, given=data["task"], allowed=", ".join(TASKS))
    if not isinstance(data["search"], dict):
        raise ConfigError("'search' must be an object recording the search", path=path,
                          given=type(data["search"]).__name__)
    try:
        data["genome"] = validate_genome(data["genome"])
    except EdgeDeblurError as exc:
        raise ConfigError(exc.what, path=path, given=exc.given, allowed=exc.allowed, hint=exc.hint) from exc
    return data


def _register_all() -> None:
    default = genome_from_mnv2unet("s")
    for task in ("deblur", "denoise"):
        register_model(
            f"nasunet_{task}",
            card={"family": "nasunet", "task": task,
                  "description": f"searchable U-Net (default genome = mnv2unet s): {describe_genome(default)}"},
            genome=default,
        )(nasunet)
    for path in sorted(GENOMES_DIR.glob("*.json")):
        register_genome_file(path)


def register_genome_file(path: Path) -> str:
    """Register the zoo entry a genome file describes; returns its name."""
    data = load_genome_file(path)
    register_model(
        data["name"],
        card={"family": "nasunet", "task": data["task"],
              "description": f"NAS-found U-Net: {describe_genome(data['genome'])}"},
        genome=data["genome"],
    )(nasunet)
    return data["name"]


_register_all()
