package org.edgedeblur.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.List;
import java.util.Map;
import org.junit.Test;

/** Manifest parsing: the real export layout is read, broken manifests are refused with a reason. */
public class ManifestTest {
    static final String INT8 = "{\"schema_version\": 1, \"artifact\": {\"file\": \"m.tflite\", \"sha256\": \"ab\","
            + " \"bytes\": 228152, \"format\": \"tflite\", \"precision\": \"int8\"},"
            + " \"model\": {\"name\": \"mnv2unet_s_deblur\", \"task\": \"deblur\"},"
            + " \"io\": {\"input\": {\"name\": \"in\", \"shape\": [1, 256, 256, 3], \"dtype\": \"int8\","
            + " \"layout\": \"NHWC\", \"range\": [0.0, 1.0], \"colour\": \"RGB\", \"scale\": 0.0038250961806625128,"
            + " \"zero_point\": -128}, \"output\": {\"name\": \"out\", \"shape\": [1, 256, 256, 3], \"dtype\": \"int8\","
            + " \"layout\": \"NHWC\", \"range\": [0.0, 1.0], \"colour\": \"RGB\", \"scale\": 0.0038676068652421236,"
            + " \"zero_point\": -128}, \"dynamic_hw\": false, \"pad_multiple\": 8,"
            + " \"tile\": {\"size\": 256, \"overlap\": 32}}, \"note\": \"caf\\u00e9 \\\"q\\\"\"}";

    @Test
    public void readsTheExportedLayout() {
        ModelManifest m = ModelManifest.parse(INT8);
        assertEquals("m.tflite", m.artifactFile);
        assertEquals(228152L, m.bytes);
        assertEquals(256, m.tileSize);
        assertEquals(32, m.tileOverlap);
        assertEquals(8, m.padMultiple);
        assertFalse(m.dynamicHw);
        assertEquals(3, m.input.channels);
        assertEquals(256, m.input.height);
        assertEquals(-128, m.input.zeroPoint);
        assertEquals(0.0038676068652421236, m.output.scale, 0.0);
        assertTrue(m.input.isQuantized());
    }

    @Test
    public void jsonParserHandlesEscapesNestingAndNumbers() {
        @SuppressWarnings("unchecked")
        Map<String, Object> o = (Map<String, Object>) Json.parse(" {\"a\": [1, -2.5e3, true, null, {}], \"s\": \"x\\ny\\u0041\"} ");
        @SuppressWarnings("unchecked")
        List<Object> a = (List<Object>) o.get("a");
        assertEquals(-2500.0, (Double) a.get(1), 0.0);
        assertEquals(Boolean.TRUE, a.get(2));
        assertEquals(null, a.get(3));
        assertEquals("x\nyA", o.get("s"));
    }

    static void refused(String json, String mustMention) {
        try {
            ModelManifest.parse(json);
            fail("accepted: " + json);
        } catch (ManifestException e) {
            assertTrue(e.getMessage() + " should mention " + mustMention, e.getMessage().contains(mustMention));
        }
    }

    @Test
    public void brokenManifestsAreRefusedWithTheField() {
        refused("{\"schema_version\": 1,", "offset");
        refused("[1, 2] x", "after the JSON value");
        refused(INT8.replace("\"schema_version\": 1", "\"schema_version\": 2"), "schema_version");
        refused(INT8.replace("\"zero_point\": -128}, \"output\"", "\"zero_point\": 200}, \"output\""), "zero_point");
        refused(INT8.replace("\"layout\": \"NHWC\", \"range\": [0.0, 1.0], \"colour\": \"RGB\", \"scale\": 0.0038250961806625128",
                "\"layout\": \"HWC\", \"range\": [0.0, 1.0], \"colour\": \"RGB\", \"scale\": 0.0038250961806625128"), "layout");
        refused(INT8.replace("\"size\": 256, \"overlap\": 32", "\"size\": 256, \"overlap\": 128"), "overlap");
        refused(INT8.replace("\"size\": 256", "\"size\": 128"), "tile.size");
        refused(INT8.replace("\"file\": \"m.tflite\"", "\"file\": \"../m.tflite\""), "bare file name");
        refused(INT8.replace(", \"pad_multiple\": 8", ""), "pad_multiple");
        refused(INT8.replace("\"scale\": 0.0038250961806625128,", "\"scale\": null,"), "scale");
    }

    @Test
    public void badTileArgumentsAreRejected() {
        try {
            Tiling.axisStarts(10, 8, 4);
            fail("overlap 4 of tile 8 accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("overlap"));
        }
    }

    @Test
    public void reflectPaddingMatchesNumpyBeyondOnePeriod() {
        // numpy.pad(np.arange(3), (0, 7), 'reflect') -> 0 1 2 1 0 1 2 1 0 1
        int[] expected = {0, 1, 2, 1, 0, 1, 2, 1, 0, 1};
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], TiledRestorer.reflect(i, 3, false));
        }
    }
}
