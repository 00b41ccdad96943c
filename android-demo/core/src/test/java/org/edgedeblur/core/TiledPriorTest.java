package org.edgedeblur.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import org.junit.Test;

/** TiledPrior: the 4th channel carries sigma / 50, and blending an identity model gives the input back. */
public class TiledPriorTest {
    @Test
    public void identityModelGivesTheInputBackAcrossTiles() {
        int h = 37, w = 53;
        float[] rgb = new float[3 * h * w];
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = (float) ((Math.sin(i * 0.37) + 1) / 2);
        }
        float[] seen = {Float.NaN};
        TileModel identity = (tile, th, tw, c) -> {
            assertEquals(4, c);
            seen[0] = tile[3];
            float[] out = new float[th * tw * 3];
            for (int i = 0; i < th * tw; i++) {
                System.arraycopy(tile, 4 * i, out, 3 * i, 3);
            }
            return out;
        };
        TiledPrior prior = new TiledPrior(identity, 16, 4);
        float[] out = prior.restore(rgb, h, w, 12.5);
        assertEquals(0.25f, seen[0], 0f);
        assertEquals(Tiling.tileGrid(h, w, 16, 4).size(), prior.lastCalls);
        for (int i = 0; i < rgb.length; i++) {
            assertEquals(rgb[i], out[i], 1e-6f);
        }
        TiledPrior whole = new TiledPrior(identity, 64, 8); // one padded tile
        float[] one = whole.restore(rgb, h, w, 5.0);
        assertEquals(1, whole.lastCalls);
        for (int i = 0; i < rgb.length; i++) {
            assertEquals(rgb[i], one[i], 0f);
        }
    }

    static String priorManifest(boolean conditioning) {
        String spec = "\"dtype\":\"int8\",\"layout\":\"NHWC\",\"range\":[0.0,1.0],\"colour\":\"RGB\","
                + "\"scale\":0.0039,\"zero_point\":-128";
        return "{\"schema_version\":1,\"artifact\":{\"file\":\"p.tflite\",\"sha256\":\"00\",\"bytes\":10,"
                + "\"format\":\"tflite\",\"precision\":\"int8\"},\"model\":{\"name\":\"mnv2unet_m_prior\","
                + "\"task\":\"deblur\"},\"io\":{\"input\":{\"name\":\"x\",\"shape\":[1,64,64,4]," + spec + "},"
                + "\"output\":{\"name\":\"y\",\"shape\":[1,64,64,3]," + spec + "},\"dynamic_hw\":false,"
                + "\"pad_multiple\":8,\"tile\":{\"size\":64,\"overlap\":16}"
                + (conditioning ? ",\"conditioning\":{\"noise_map\":{\"channel\":3,\"scale\":0.02}}" : "") + "},"
                + "\"pipeline\":{\"kind\":\"psf-deconvolution\",\"mode\":\"hqs\",\"iterations\":4,"
                + "\"taper\":\"blur\",\"linear\":\"auto\"}}";
    }

    @Test
    public void priorManifestWithNoiseMapIsAccepted() {
        ModelManifest m = ModelManifest.parse(priorManifest(true));
        assertTrue(m.noiseMap);
        assertEquals(4, m.input.channels);
        assertEquals(3, m.output.channels);
        assertNotNull(m.pipeline);
        DeblurPipeline.Config cfg = DeblurPipeline.Config.fromMap(m.pipeline);
        assertEquals(4, cfg.iterations);
        assertEquals(DataStep.TAPER_BLUR, cfg.taper);
        assertTrue(cfg.linear);
        try {
            ModelManifest.parse(priorManifest(false));
            fail("a 4-channel input without io.conditioning must be refused");
        } catch (ManifestException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("channels"));
        }
    }
}
