package org.edgedeblur.core;

/**
 * The learned prior of the deblur pipeline (the manifest's noise-conditioned model): restore an
 * RGB image at noise level {@code sigma}. The app wraps its LiteRT interpreter ({@link TiledPrior}
 * tiles it and feeds R, G, B and the constant noise map {@code sigma * 0.02} as the 4th input
 * channel, the manifest's io.conditioning); tests use the golden file's stand-in formula.
 */
public interface DeblurPrior {
    /**
     * @param rgb 3 float planes of h x w (channel c starts at c h w), sRGB in [0, 1]
     * @param sigma noise level on the 0-255 scale
     * @return 3 planes of h x w, in [0, 1] (need not be clipped); may be a new array
     */
    float[] restore(float[] rgb, int h, int w, double sigma);
}
