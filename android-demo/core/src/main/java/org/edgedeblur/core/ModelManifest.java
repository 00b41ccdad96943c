package org.edgedeblur.core;

import java.util.List;
import java.util.Map;

/**
 * The exported-artifact manifest (docs/manifest.md) as the app needs it: the artifact file name,
 * its sha256/bytes, both tensors, dynamic_hw, pad_multiple and the tile size/overlap. The same
 * rules as edgedeblur.runtime.validate_manifest that matter for running are checked here, so a
 * wrong manifest fails on load with a message instead of producing garbage pixels.
 */
public final class ModelManifest {
    public final int schemaVersion;
    public final String artifactFile;
    public final String sha256;
    public final long bytes;
    public final String format;
    public final String precision;
    public final String modelName;
    public final String task;
    public final TensorSpec input;
    public final TensorSpec output;
    public final boolean dynamicHw;
    public final int padMultiple;
    /** Tile size; 0 when the manifest has {@code "tile": null} (dynamic models). */
    public final int tileSize;
    public final int tileOverlap;
    /** A deblur prior: the input is RGB + the noise map (io.conditioning.noise_map), else false. */
    public final boolean noiseMap;
    /** The deblur pipeline's settings (the manifest's "pipeline" section), or null. */
    public final Map<String, Object> pipeline;

    private ModelManifest(Map<String, Object> root) {
        schemaVersion = (int) num(root, "schema_version");
        if (schemaVersion != 1) {
            throw new ManifestException("schema_version: given " + schemaVersion + ", allowed 1"
                    + " (this app reads manifest schema 1; update the app or re-export)");
        }
        Map<String, Object> art = obj(root, "artifact");
        artifactFile = str(art, "file");
        if (artifactFile.contains("/") || artifactFile.contains("\\")) {
            throw new ManifestException("artifact.file must be a bare file name, given '" + artifactFile + "'");
        }
        sha256 = str(art, "sha256");
        bytes = (long) num(art, "bytes");
        format = str(art, "format");
        precision = str(art, "precision");
        Map<String, Object> model = obj(root, "model");
        modelName = str(model, "name");
        task = str(model, "task");
        Map<String, Object> io = obj(root, "io");
        noiseMap = io.get("conditioning") != null
                && asObj("io.conditioning", io.get("conditioning")).get("noise_map") != null;
        input = new TensorSpec("io.input", obj(io, "input"), noiseMap);
        output = new TensorSpec("io.output", obj(io, "output"), false);
        pipeline = root.get("pipeline") == null ? null : asObj("pipeline", root.get("pipeline"));
        dynamicHw = bool(io, "dynamic_hw");
        padMultiple = (int) num(io, "pad_multiple");
        Object tile = io.get("tile");
        if (tile == null) {
            tileSize = 0;
            tileOverlap = 0;
        } else {
            Map<String, Object> t = asObj("io.tile", tile);
            tileSize = (int) num(t, "size");
            tileOverlap = (int) num(t, "overlap");
        }
        checkRules();
    }

    /** Parse and validate manifest JSON text. */
    public static ModelManifest parse(String jsonText) {
        return new ModelManifest(asObj("manifest", Json.parse(jsonText)));
    }

    private void checkRules() {
        if (input.channels != output.channels + (noiseMap ? 1 : 0)) {
            throw new ManifestException("io: input has " + input.channels + " channels but output has "
                    + output.channels);
        }
        boolean fixed = input.height > 0 && input.width > 0;
        if (dynamicHw == fixed) {
            throw new ManifestException("io.dynamic_hw is " + dynamicHw + " but input H/W are "
                    + input.height + "/" + input.width + " (use -1 for dynamic dimensions)");
        }
        if (padMultiple < 1) {
            throw new ManifestException("io.pad_multiple: given " + padMultiple + ", allowed >= 1");
        }
        if (!dynamicHw && (input.height != input.width || tileSize != input.height)) {
            throw new ManifestException("io.tile.size must equal the square fixed input size "
                    + input.height + "x" + input.width + ", given " + tileSize);
        }
        if (tileSize > 0) {
            if (2 * tileOverlap >= tileSize || tileOverlap < 0) {
                throw new ManifestException("io.tile.overlap " + tileOverlap + " must be >= 0 and < half of size "
                        + tileSize);
            }
            if (tileSize % padMultiple != 0) {
                throw new ManifestException("io.tile.size " + tileSize + " must be a multiple of pad_multiple "
                        + padMultiple);
            }
        }
    }

    /** One model input or output tensor (shape in the order of its layout; -1 = dynamic). */
    public static final class TensorSpec {
        public final String name;
        public final int[] shape;
        public final String dtype;
        public final String layout;
        public final float rangeLo;
        public final float rangeHi;
        public final String colour;
        /** Quantization scale; NaN for float tensors. */
        public final double scale;
        public final int zeroPoint;
        public final int batch;
        public final int height;
        public final int width;
        public final int channels;

        TensorSpec(String where, Map<String, Object> d, boolean noiseMap) {
            name = str(d, "name");
            List<Object> s = list(d, "shape", where);
            if (s.size() != 4) {
                throw new ManifestException(where + ".shape: given " + s + ", allowed 4 dimensions");
            }
            shape = new int[4];
            for (int i = 0; i < 4; i++) {
                shape[i] = ((Double) s.get(i)).intValue();
            }
            dtype = oneOf(where + ".dtype", str(d, "dtype"), "float32", "float16", "int8", "uint8");
            layout = oneOf(where + ".layout", str(d, "layout"), "NHWC", "NCHW");
            List<Object> r = list(d, "range", where);
            rangeLo = ((Double) r.get(0)).floatValue();
            rangeHi = ((Double) r.get(1)).floatValue();
            if (!(rangeHi > rangeLo)) {
                throw new ManifestException(where + ".range: must be [low, high] with low < high, given " + r);
            }
            colour = oneOf(where + ".colour", str(d, "colour"), "RGB", "GREY");
            batch = shape[layout.indexOf('N')];
            height = shape[layout.indexOf('H')];
            width = shape[layout.indexOf('W')];
            channels = shape[layout.indexOf('C')];
            if (channels != (colour.equals("RGB") ? 3 : 1) + (noiseMap ? 1 : 0)) {
                throw new ManifestException(where + ": colour " + colour + " needs " + (colour.equals("RGB") ? 3 : 1)
                        + " channels, shape has " + channels);
            }
            if (isQuantized()) {
                if (d.get("scale") == null || d.get("zero_point") == null) {
                    throw new ManifestException(where + ": dtype " + dtype + " needs 'scale' and 'zero_point'");
                }
                scale = num(d, "scale");
                zeroPoint = (int) num(d, "zero_point");
                int lo = dtype.equals("int8") ? -128 : 0;
                if (zeroPoint < lo || zeroPoint > lo + 255 || !(scale > 0)) {
                    throw new ManifestException(where + ": zero_point " + zeroPoint + " / scale " + scale
                            + " invalid for " + dtype + " (zero point " + lo + ".." + (lo + 255) + ", scale > 0)");
                }
            } else {
                scale = Double.NaN;
                zeroPoint = 0;
            }
        }

        public boolean isQuantized() {
            return dtype.equals("int8") || dtype.equals("uint8");
        }

        public Quantizer quantizer() {
            return new Quantizer(dtype, scale, zeroPoint, rangeLo, rangeHi);
        }
    }

    // --- small typed accessors with messages naming the field ------------------------------
    static Map<String, Object> obj(Map<String, Object> m, String key) {
        return asObj(key, need(m, key));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> asObj(String where, Object o) {
        if (!(o instanceof Map)) {
            throw new ManifestException(where + ": expected a JSON object, given " + o);
        }
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Map<String, Object> m, String key, String where) {
        Object o = need(m, key);
        if (!(o instanceof List)) {
            throw new ManifestException(where + "." + key + ": expected a JSON array, given " + o);
        }
        for (Object e : (List<Object>) o) {
            if (!(e instanceof Double)) {
                throw new ManifestException(where + "." + key + ": expected numbers, given " + o);
            }
        }
        return (List<Object>) o;
    }

    static String str(Map<String, Object> m, String key) {
        Object o = need(m, key);
        if (!(o instanceof String)) {
            throw new ManifestException(key + ": expected a string, given " + o);
        }
        return (String) o;
    }

    static double num(Map<String, Object> m, String key) {
        Object o = need(m, key);
        if (!(o instanceof Double)) {
            throw new ManifestException(key + ": expected a number, given " + o);
        }
        return (Double) o;
    }

    static boolean bool(Map<String, Object> m, String key) {
        Object o = need(m, key);
        if (!(o instanceof Boolean)) {
            throw new ManifestException(key + ": expected true or false, given " + o);
        }
        return (Boolean) o;
    }

    private static Object need(Map<String, Object> m, String key) {
        if (!m.containsKey(key)) {
            throw new ManifestException("missing field '" + key + "' (see docs/manifest.md; re-export with edge-export)");
        }
        return m.get(key);
    }

    private static String oneOf(String where, String value, String... allowed) {
        for (String a : allowed) {
            if (a.equals(value)) {
                return value;
            }
        }
        throw new ManifestException(where + ": given '" + value + "', allowed " + String.join(", ", allowed));
    }
}
