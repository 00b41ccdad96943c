"""edgedeblur.calibration: seeded calibration and held-out patches for INT8 export.

Real photos (``--calib-dir`` or ``$EDGEDEBLUR_CALIB_DIR``), cropped to the export shape and
degraded like the model's training data (for a deblur prior: the pipeline's data step and noise
map, 4 channels), plus adapters for ONNX Runtime, NNCF and
ai-edge-quantizer. Importing this package needs only numpy; toolchains load in the adapters.
"""

from ._adapters import litert_dataset, nncf_dataset, ort_reader
from ._degrade import (
    DEFAULT_DEGRADATIONS,
    PriorSample,
    default_degrader,
    describe_default,
    prior_degrader,
)
from ._source import (
    CALIB_METHODS,
    ENV_DATA,
    ENV_DIR,
    MIN_IMAGES,
    CalibrationSource,
    Patch,
    check_method,
    default_calibration_dir,
    to_batch,
)

__all__ = [
    "CALIB_METHODS",
    "DEFAULT_DEGRADATIONS",
    "ENV_DATA",
    "ENV_DIR",
    "MIN_IMAGES",
    "CalibrationSource",
    "Patch",
    "PriorSample",
    "check_method",
    "default_calibration_dir",
    "default_degrader",
    "describe_default",
    "litert_dataset",
    "nncf_dataset",
    "ort_reader",
    "prior_degrader",
    "to_batch",
]
