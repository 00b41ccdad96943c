"""The frequency-domain plumbing lives in the runtime (numpy only); classical methods reuse it."""

from ..runtime._fft import TAPERS, Padded, fft_workers, irfft2, pad_and_taper, psf2otf, rfft2

__all__ = ["TAPERS", "Padded", "pad_and_taper", "psf2otf", "rfft2", "irfft2", "fft_workers"]
