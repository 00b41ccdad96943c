package org.edgedeblur.core;

/**
 * One model call on one tile. The app wraps a LiteRT interpreter (with {@link TensorCodec} to
 * build its input/output buffers); tests wrap a deterministic function.
 */
public interface TileModel {
    /**
     * @param tile height x width x channels pixels in [0, 1], row-major HWC
     * @param height tile height (the manifest's tile size for fixed-shape models)
     * @param width tile width
     * @param channels 1 or 3
     * @return restored pixels, same shape, in [0, 1] (not necessarily clipped)
     */
    float[] infer(float[] tile, int height, int width, int channels);
}
