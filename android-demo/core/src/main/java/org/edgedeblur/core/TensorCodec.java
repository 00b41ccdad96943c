package org.edgedeblur.core;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Builds a model's input tensor from a tile and reads its output tensor back, following the
 * manifest (dtype, layout NHWC/NCHW, scale/zero point, range) like Runner.to_model/from_model.
 * Buffers are direct and native-order, which is what LiteRT's Interpreter.run expects.
 */
public final class TensorCodec {
    private final ModelManifest.TensorSpec in;
    private final ModelManifest.TensorSpec out;
    private final Quantizer qin;
    private final Quantizer qout;

    public TensorCodec(ModelManifest manifest) {
        this.in = manifest.input;
        this.out = manifest.output;
        for (ModelManifest.TensorSpec t : new ModelManifest.TensorSpec[] {in, out}) {
            if (t.dtype.equals("float16")) {
                throw new ManifestException(t.name + ": float16 I/O is not supported by the app; export "
                        + "tflite-fp16 (float32 I/O with fp16 weights) or tflite-int8");
            }
        }
        this.qin = in.quantizer();
        this.qout = out.quantizer();
    }

    static int bytesPerValue(String dtype) {
        return dtype.equals("float32") ? 4 : 1;
    }

    /** A direct buffer large enough for one height x width tile of the given tensor. */
    public static ByteBuffer allocate(ModelManifest.TensorSpec spec, int height, int width) {
        int n = height * width * spec.channels * bytesPerValue(spec.dtype);
        return ByteBuffer.allocateDirect(n).order(ByteOrder.nativeOrder());
    }

    private static int index(String layout, int y, int x, int c, int h, int w, int channels) {
        return layout.equals("NHWC") ? (y * w + x) * channels + c : (c * h + y) * w + x;
    }

    /** HWC tile in [0, 1] -> the input tensor in {@code dst} (rewound, ready for the model). */
    public void encode(float[] tile, int h, int w, ByteBuffer dst) {
        int ch = in.channels;
        dst.clear();
        boolean f32 = in.dtype.equals("float32");
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < ch; c++) {
                    float v = tile[(y * w + x) * ch + c];
                    int i = index(in.layout, y, x, c, h, w, ch);
                    if (f32) {
                        dst.putFloat(4 * i, qin.toReal(v));
                    } else {
                        dst.put(i, (byte) qin.quantize(v));
                    }
                }
            }
        }
        dst.rewind();
    }

    /** The output tensor in {@code src} -> HWC tile in [0, 1] (not clipped). */
    public float[] decode(ByteBuffer src, int h, int w) {
        int ch = out.channels;
        float[] tile = new float[h * w * ch];
        boolean f32 = out.dtype.equals("float32");
        boolean signed = out.dtype.equals("int8");
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < ch; c++) {
                    int i = index(out.layout, y, x, c, h, w, ch);
                    float v;
                    if (f32) {
                        v = qout.fromReal(src.getFloat(4 * i));
                    } else {
                        byte b = src.get(i);
                        v = qout.dequantize(signed ? b : b & 0xFF);
                    }
                    tile[(y * w + x) * ch + c] = v;
                }
            }
        }
        return tile;
    }
}
