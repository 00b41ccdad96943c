"""edgedeblur: image deblurring and denoising from training to the device.

Heavy subpackages (models, train, export) import torch and friends lazily; importing
``edgedeblur`` itself needs only numpy.
"""

from .errors import EdgeDeblurError
from .methods import get_method, list_methods

__version__ = "0.1.0"
__all__ = ["EdgeDeblurError", "__version__", "get_method", "list_methods"]
