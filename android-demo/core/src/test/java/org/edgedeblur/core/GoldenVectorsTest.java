package org.edgedeblur.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import org.junit.Test;

/**
 * The core must reproduce the Python runtime on tests/golden/*.json (written by
 * benchmarks/make_golden_vectors.py from edgedeblur.runtime). Directory: -Dgolden.dir=...
 */
public class GoldenVectorsTest {
    static Map<String, Object> golden(String name) throws IOException {
        Path dir = Paths.get(System.getProperty("golden.dir", "../../tests/golden"));
        String text = new String(Files.readAllBytes(dir.resolve(name)), StandardCharsets.UTF_8);
        return ModelManifest.asObj(name, Json.parse(text));
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> objs(Object o) {
        return (List<Map<String, Object>>) o;
    }

    @SuppressWarnings("unchecked")
    static int[] ints(Object o) {
        List<Object> l = (List<Object>) o;
        int[] a = new int[l.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = ((Double) l.get(i)).intValue();
        }
        return a;
    }

    @SuppressWarnings("unchecked")
    static float[] floats(Object o) {
        List<Object> l = (List<Object>) o;
        float[] a = new float[l.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = ((Double) l.get(i)).floatValue();
        }
        return a;
    }

    static int num(Map<String, Object> m, String k) {
        return ((Double) m.get(k)).intValue();
    }

    @Test
    public void tileGridMatchesPython() throws IOException {
        List<Map<String, Object>> grids = objs(golden("tiling.json").get("grids"));
        assertEquals(10, grids.size());
        for (Map<String, Object> g : grids) {
            int h = num(g, "h"), w = num(g, "w"), t = num(g, "tile"), o = num(g, "overlap");
            String where = h + "x" + w + " tile " + t + "/" + o;
            assertArrayEquals(where, ints(g.get("ys")), Tiling.axisStarts(h, t, o));
            assertArrayEquals(where, ints(g.get("xs")), Tiling.axisStarts(w, t, o));
            assertEquals(where, num(g, "count"), Tiling.tileGrid(h, w, t, o).size());
        }
    }

    @Test
    public void blendRampMatchesPython() throws IOException {
        for (Map<String, Object> r : objs(golden("tiling.json").get("ramps"))) {
            int t = num(r, "tile"), o = num(r, "overlap");
            float[] ramp = Tiling.blendRamp(t, o);
            assertArrayEquals("ramp " + t + "/" + o, floats(r.get("ramp")), ramp, 0f);
        }
    }

    @Test
    public void quantizationMatchesPython() throws IOException {
        for (Map<String, Object> c : objs(golden("quant.json").get("cases"))) {
            String dtype = (String) c.get("dtype");
            Quantizer q = new Quantizer(dtype, (Double) c.get("scale"), num(c, "zero_point"), 0f, 1f);
            float[] pixels = floats(c.get("pixels"));
            int[] expected = ints(c.get("quantized"));
            int[] got = new int[pixels.length];
            for (int i = 0; i < pixels.length; i++) {
                got[i] = q.quantize(pixels[i]);
            }
            assertArrayEquals(dtype + " quantize", expected, got);
            int[] levels = ints(c.get("levels"));
            float[] deq = new float[levels.length];
            for (int i = 0; i < levels.length; i++) {
                deq[i] = q.dequantize(levels[i]);
            }
            assertArrayEquals(dtype + " dequantize", floats(c.get("dequantized")), deq, 0f);
        }
    }

    /** The golden model: shift each raw tensor value by ((i + 2j) % 7 - 3 + c), i/j in the tile. */
    static TileModel shiftModel(ModelManifest m) {
        TensorCodec codec = new TensorCodec(m);
        ModelManifest.TensorSpec spec = m.input;
        return (tile, h, w, c) -> {
            ByteBuffer in = TensorCodec.allocate(spec, h, w);
            codec.encode(tile, h, w, in);
            ByteBuffer out = TensorCodec.allocate(m.output, h, w);
            for (int i = 0; i < h; i++) {
                for (int j = 0; j < w; j++) {
                    for (int k = 0; k < c; k++) {
                        int idx = spec.layout.equals("NHWC") ? (i * w + j) * c + k : (k * h + i) * w + j;
                        int d = (i + 2 * j) % 7 - 3 + k;
                        if (spec.dtype.equals("float32")) {
                            out.putFloat(4 * idx, in.getFloat(4 * idx) + 0.01f * d);
                        } else if (spec.dtype.equals("int8")) {
                            out.put(idx, (byte) Math.max(-128, Math.min(127, in.get(idx) + d)));
                        } else {
                            out.put(idx, (byte) Math.max(0, Math.min(255, (in.get(idx) & 0xFF) + d)));
                        }
                    }
                }
            }
            return codec.decode(out, h, w);
        };
    }

    @Test
    public void wholeImageRestoreMatchesPythonRunner() throws IOException {
        List<Map<String, Object>> cases = objs(golden("restore.json").get("cases"));
        assertEquals(4, cases.size());
        for (Map<String, Object> c : cases) {
            String name = (String) c.get("name");
            ModelManifest m = ModelManifest.parse(toJson(c.get("manifest")));
            int h = num(c, "height"), w = num(c, "width"), ch = num(c, "channels");
            PixelSource src = PixelSource.ofUint8(ints(c.get("image")), w, h, ch);
            int[] calls = {0};
            byte[] out = new TiledRestorer(m).restore(src, shiftModel(m), (done, total, ns) -> calls[0]++);
            int[] expected = ints(c.get("expected"));
            int[] got = new int[out.length];
            for (int i = 0; i < out.length; i++) {
                got[i] = out[i] & 0xFF;
            }
            assertArrayEquals(name, expected, got);
            assertEquals(name + " model calls", new TiledRestorer(m).tileCount(h, w), calls[0]);
        }
    }

    /** Re-serialise a parsed JSON value (so the manifest goes through ModelManifest.parse). */
    @SuppressWarnings("unchecked")
    static String toJson(Object o) {
        if (o == null) {
            return "null";
        }
        if (o instanceof String) {
            return "\"" + ((String) o).replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
        }
        if (o instanceof Double || o instanceof Boolean) {
            return String.valueOf(o);
        }
        StringBuilder sb = new StringBuilder();
        if (o instanceof List) {
            sb.append('[');
            for (Object e : (List<Object>) o) {
                sb.append(sb.length() > 1 ? "," : "").append(toJson(e));
            }
            return sb.append(']').toString();
        }
        sb.append('{');
        for (Map.Entry<String, Object> e : ((Map<String, Object>) o).entrySet()) {
            sb.append(sb.length() > 1 ? "," : "").append(toJson(e.getKey())).append(':').append(toJson(e.getValue()));
        }
        return sb.append('}').toString();
    }
}
