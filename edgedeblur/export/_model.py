"""Resolve what the user named into a deploy-ready torch model and what the manifest says of it.

MODEL is a zoo name (trained weights, or ``random_init`` for an untrained net, labelled as such),
a method name that stands for a zoo model (``deblur``: the deblur pipeline's prior
``DEFAULT_DEBLUR_PRIOR``; ``denoise``: ``DEFAULT_DENOISER``, see :mod:`edgedeblur.methods`), or a
``.safetensors`` checkpoint with ``arch`` naming its zoo architecture (or one of those methods).
A prior (task ``prior``: RGB + a noise-level map in) carries the pipeline settings its manifest
gets (``PipelineConfig().to_dict()``), so ``edgedeblur.runtime.load_pipeline`` can run it. ``model_kwargs``
override the registered architecture (``create_model(name, **model_kwargs)``), e.g. a NAS genome
for ``nasunet_deblur``; the card's params/MACs then no longer describe the net, so they are
recomputed from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ArtifactError, ConfigError, UnknownNameError, require
from ..runtime.manifest import sha256_file


@dataclass
class ResolvedModel:
    """A model ready to export and its manifest ``model`` fields."""

    module: Any  # torch.nn.Module, eval mode
    name: str
    task: str
    pad_multiple: int
    checkpoint_sha256: str | None
    weights: str  # "trained" | "random-init" | "checkpoint"
    recipe: str | None = None
    kwargs: dict[str, Any] | None = None  # architecture overrides given to create_model
    cost: dict[str, int] | None = None  # params / macs_720p of an overridden architecture
    in_channels: int = 3  # 4: RGB + a noise-level map (a deblur pipeline prior)
    pipeline: dict[str, Any] | None = None  # the manifest's ``pipeline`` section (priors only)
    method: str | None = None  # "deblur" / "denoise" when the user named the method

    @property
    def conditioned(self) -> bool:
        """True for a prior taking RGB + a noise-level map (the manifest gets ``io.conditioning``)."""
        return self.in_channels == 4


def pipeline_methods() -> dict[str, str]:
    """Method names ``edge-export`` accepts for a zoo model: ``deblur`` and ``denoise``."""
    from ..methods import DEFAULT_DEBLUR_PRIOR, DEFAULT_DENOISER

    return {"deblur": DEFAULT_DEBLUR_PRIOR, "denoise": DEFAULT_DENOISER}


def _create(zoo: Any, name: str, pretrained: bool, kwargs: dict[str, Any]) -> Any:
    """``create_model`` with architecture overrides; a rejected override is a ConfigError."""
    try:
        return zoo.create_model(name, pretrained=pretrained, **kwargs)
    except TypeError as exc:  # an unknown keyword for the family's constructor
        raise ConfigError(f"model_kwargs do not fit {name!r}: {exc}", given=", ".join(sorted(kwargs)),
                          hint="pass only arguments of the family's constructor (see edgedeblur/models)") from exc


def _cost(zoo: Any, net: Any) -> dict[str, int]:
    # Counted on the training-form net, as the card does, so the numbers compare with the zoo's.
    return {"params": int(zoo.count_params(net)), "macs_720p": int(zoo.count_macs(net, 720, 1280))}


def resolve_model(model: str, arch: str | None = None, random_init: bool = False, seed: int = 0,
                  model_kwargs: dict[str, Any] | None = None) -> ResolvedModel:
    """Build the model for ``model`` (zoo name or checkpoint path), in eval mode.

    ``model_kwargs`` override the registered architecture (passed to ``create_model``).
    """
    torch = require("torch", "export", "exporting zoo models")
    zoo = require("edgedeblur.models", "export", "exporting zoo models")
    methods = pipeline_methods()
    method = model if model in methods else arch if arch in methods else None
    if arch in methods:
        arch = methods[arch]
    if model in methods:
        model = methods[model]
    if model.endswith(".safetensors"):
        path = Path(model)
        if arch is None:
            raise ConfigError("a checkpoint needs its architecture", given=model,
                              allowed=", ".join(zoo.list_models()), hint="add --arch NAME")
        if not path.is_file():
            raise ArtifactError("checkpoint not found", path=path)
        name, weights, sha = arch, "checkpoint", sha256_file(path)
    else:
        if arch is not None:
            raise ConfigError("--arch is only for .safetensors checkpoints", given=arch,
                              hint=f"drop --arch, or pass a checkpoint file instead of {model!r}")
        name, weights = model, "random-init" if random_init else "trained"
        path, sha = None, None
    if name not in zoo.list_models():
        raise UnknownNameError("model", name, zoo.list_models())
    torch.manual_seed(seed)
    try:
        net = _create(zoo, name, weights == "trained", dict(model_kwargs or {}))
    except ArtifactError as exc:
        if weights != "trained":
            raise
        run = f"runs/{name}/weights.safetensors --arch {name}"
        hint = ("train it with edge-train, or pass --random-init to export an untrained "
                "net for testing (labelled so in the manifest)")
        if method:
            hint = (f"'{method}' exports {name}, which has no shipped weights yet; export a training run's "
                    f"weights with: edge-export {run}, or pass --random-init for testing")
        raise ArtifactError(exc.what, given=exc.given, allowed=exc.allowed, path=exc.path, hint=hint) from exc
    if path is not None:
        st = require("safetensors.torch", "train", "reading checkpoints")
        try:
            state = st.load_file(str(path))
            net.load_state_dict(state)
        except Exception as exc:  # corrupt file or mismatched keys/shapes
            raise ArtifactError(f"checkpoint does not load into {name!r}: {str(exc)[:300]}", path=path,
                                hint="check --arch matches the architecture it was trained as") from exc
    elif weights == "trained":
        wp = zoo.weights_path(name)
        sha = sha256_file(wp) if wp.is_file() else None
    card = zoo.get_card(name)
    net.eval()
    cost = _cost(zoo, net) if model_kwargs else None
    from ..models._macs import input_channels

    channels = input_channels(net)
    deploy = net.to_deploy() if hasattr(net, "to_deploy") else net
    deploy.eval()
    pipeline = None
    if card.task == "prior" or channels == 4:
        from ..runtime.pipeline import PipelineConfig

        pipeline = PipelineConfig().to_dict()
    return ResolvedModel(deploy, name, card.task, int(getattr(net, "pad_multiple", 1)), sha, weights,
                         getattr(card, "recipe", None), dict(model_kwargs) if model_kwargs else None, cost,
                         channels, pipeline, method)
