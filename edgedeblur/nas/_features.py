"""Op features of a deploy graph for one input tile: what an INT8 runtime spends its time on.

A ``TorchFunctionMode`` sees every torch call of one forward pass, including the functional
ones forward hooks cannot see (``x + y``, ``torch.cat``, the clamps of a gate), and the pass
runs on the ``meta`` device: shapes only, no memory, milliseconds even at 256x256. Each call is
classified the way a converter lowers it: convs by kind (dense k x k, depthwise, 1x1), an
activation straight after a conv is fused into it (TFLite/XNNPACK do), everything else is an
op of its own with a fixed dispatch cost plus a per-element cost.

Counts are per tile of batch 1; element counts are per output tensor unless said otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["FEATURE_DOC", "module_features"]

# Every key op_features returns, with what it counts (the unit a fitted coefficient is "per").
FEATURE_DOC: dict[str, str] = {
    "macs_dense": "MACs of dense k x k convs (k > 1, groups 1)",
    "macs_dw": "MACs of depthwise convs",
    "macs_pw": "MACs of 1x1 convs",
    "macs_total": "all conv MACs",
    "macs_dense_c16": "macs_dense with output channels rounded up to 16 and input channels to 4",
    "macs_dw_c16": "macs_dw with channels rounded up to 16",
    "macs_pw_c16": "macs_pw with output channels rounded up to 16 and input channels to 4",
    "conv_io": "elements read + written by convs (input + output activations)",
    "conv_in": "elements read by convs",
    "conv_out": "elements written by convs",
    "dw_out": "elements written by depthwise convs",
    "weights": "conv weight elements (read once per tile)",
    "add": "elements out of elementwise adds and subtractions",
    "mul": "elements out of elementwise multiplies",
    "clamp": "elements out of clamps not fused into a conv",
    "act_fused": "elements out of activations fused into the conv before them",
    "elementwise": "add + mul + clamp elements",
    "resize": "elements out of resizes (bilinear / nearest x2)",
    "concat": "elements out of channel concatenations",
    "slice": "elements out of channel splits / slices",
    "n_conv": "number of conv ops",
    "n_ops": "number of runtime ops (convs, adds, subs, muls, unfused clamps, resizes, concats, splits)",
    "full_res_io": "conv_io at full tile resolution (level 0)",
}

_ACTIVATIONS = {"hardtanh", "relu6", "relu", "clamp", "clip", "clamp_", "hardtanh_", "relu_"}
# a subtraction is an ADD-class op for the runtime (TFLite SUB, same kernel family)
_ADDS = {"add", "__add__", "__radd__", "__iadd__", "add_", "sub", "__sub__", "__rsub__", "rsub", "__isub__", "sub_"}
_MULS = {"mul", "__mul__", "__rmul__", "__imul__", "mul_"}
_RESIZES = {"interpolate", "upsample", "upsample_bilinear2d", "upsample_nearest2d", "pixel_shuffle"}
_CONCATS = {"cat", "concat", "concatenate"}
_SLICES = {"chunk", "split", "__getitem__", "narrow", "tensor_split"}


def _name(func: Callable) -> str:
    return getattr(func, "__name__", "") or str(func)


def _round_up(n: int, m: int) -> int:
    return -(-n // m) * m


def _numel(t: Any) -> int:
    return int(math.prod(t.shape))


class _Counter:
    """Accumulates the features of one forward pass (see FEATURE_DOC)."""

    def __init__(self, full_hw: tuple[int, int]) -> None:
        self.f: dict[str, float] = dict.fromkeys(FEATURE_DOC, 0.0)
        self.full_hw = full_hw
        self.conv_outputs: dict[int, Any] = {}  # id -> tensor (kept alive so ids stay unique)

    def conv(self, x: Any, weight: Any, out: Any, groups: int, transposed: bool = False) -> None:
        _, cin_g, kh, kw = (int(v) for v in weight.shape)
        # a transposed conv's weight is (cin, cout/groups, kh, kw): each input element fans out
        macs = _numel(x) * cin_g * kh * kw if transposed else _numel(out) * cin_g * kh * kw
        if groups > 1 and cin_g == 1 and not transposed:
            kind = "macs_dw"
            self.f["dw_out"] += _numel(out)
        elif kh * kw == 1 and groups == 1:
            kind = "macs_pw"
        else:
            kind = "macs_dense"
        self.f[kind] += macs
        # INT8 kernels (XNNPACK, ruy) compute whole SIMD tiles of output channels (16 int8 lanes
        # per x86/NEON register) and pad the reduction to 4: a 12-channel conv costs a 16-channel one
        spatial = _numel(out) // int(out.shape[1])
        cout16 = _round_up(int(out.shape[1]), 16)
        if transposed:  # not in the NAS space; counted unpadded
            self.f[kind + "_c16"] += macs
        elif kind == "macs_dw":
            self.f["macs_dw_c16"] += spatial * cout16 * kh * kw
        else:
            self.f[kind + "_c16"] += spatial * cout16 * _round_up(cin_g, 4) * kh * kw
        self.f["macs_total"] += macs
        io = _numel(x) + _numel(out)
        self.f["conv_in"] += _numel(x)
        self.f["conv_out"] += _numel(out)
        self.f["conv_io"] += io
        if tuple(out.shape[-2:]) == self.full_hw:
            self.f["full_res_io"] += io
        self.f["weights"] += _numel(weight)
        self.f["n_conv"] += 1
        self.f["n_ops"] += 1
        self.conv_outputs[id(out)] = out

    def activation(self, x: Any, out: Any) -> None:
        if id(x) in self.conv_outputs:  # fused into the conv: no op of its own
            self.f["act_fused"] += _numel(out)
            self.conv_outputs[id(out)] = out  # ReLU6 after a fused ReLU6 is still fused
            return
        self.op("clamp", out)

    def op(self, kind: str, out: Any) -> None:
        self.f[kind] += _numel(out)
        if kind in ("add", "mul", "clamp"):
            self.f["elementwise"] += _numel(out)
        self.f["n_ops"] += 1


def _first_tensor(args: tuple, torch: Any) -> Any:
    return next((a for a in args if isinstance(a, torch.Tensor)), None)


def _record(counter: _Counter, func: Callable, args: tuple, kwargs: dict, out: Any, torch: Any) -> None:
    """Classify one torch call; calls that move no data (shape queries, views) are ignored."""
    name = _name(func)
    if name in ("conv2d", "_conv_forward"):
        groups = kwargs.get("groups", args[6] if len(args) > 6 else 1)
        counter.conv(args[0], args[1], out, int(groups))
    elif name == "conv_transpose2d":
        groups = kwargs.get("groups", args[6] if len(args) > 6 else 1)
        counter.conv(args[0], args[1], out, int(groups), transposed=True)
    elif name in _ACTIVATIONS:
        counter.activation(args[0], out)
    elif name in _ADDS and isinstance(out, torch.Tensor):
        counter.op("add", out)
    elif name in _MULS and isinstance(out, torch.Tensor):
        counter.op("mul", out)
    elif name in _RESIZES:
        counter.op("resize", out)
    elif name in _CONCATS:
        counter.op("concat", out)
    elif name in _SLICES:
        parts = out if isinstance(out, (tuple, list)) else [out]
        for p in parts:
            counter.op("slice", p)


def module_features(module: Any, tile: int) -> dict[str, float]:
    """Features of ``module`` (a deploy-form torch module) on one 1x3x``tile``x``tile`` input."""
    import copy

    import torch
    from torch.overrides import TorchFunctionMode

    counter = _Counter((tile, tile))

    class _Mode(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            _record(counter, func, args, kwargs, out, torch)
            return out

    net = copy.deepcopy(module).eval().to("meta")
    x = torch.zeros(1, 3, tile, tile, device="meta")
    with torch.no_grad(), _Mode():
        net(x)
    counter.conv_outputs.clear()
    return counter.f
