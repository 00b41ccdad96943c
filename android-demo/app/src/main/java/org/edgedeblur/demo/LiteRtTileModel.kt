package org.edgedeblur.demo

import android.content.Context
import org.edgedeblur.core.ModelManifest
import org.edgedeblur.core.TensorCodec
import org.edgedeblur.core.TileModel
import org.tensorflow.lite.Delegate
import org.tensorflow.lite.Interpreter
import org.tensorflow.lite.gpu.CompatibilityList
import org.tensorflow.lite.gpu.GpuDelegate
import org.tensorflow.lite.nnapi.NnApiDelegate
import java.io.Closeable
import java.io.FileInputStream
import java.nio.ByteBuffer
import java.nio.MappedByteBuffer
import java.nio.channels.FileChannel

/** Where the model runs. CPU uses LiteRT's default XNNPACK kernels. */
enum class Accelerator(val label: String) { CPU("CPU (XNNPACK)"), GPU("GPU delegate"), NNAPI("NNAPI / NPU") }

/**
 * A LiteRT interpreter for the bundled artifact, as a [TileModel] for the core's TiledRestorer.
 * Input/output tensors are built by the core's [TensorCodec] from the manifest (dtype, layout,
 * scale/zero point). A delegate that cannot be created or cannot take the model falls back to
 * CPU and says why in [fallback], which the screen shows.
 */
class LiteRtTileModel private constructor(
    private val interpreter: Interpreter,
    private val delegate: Delegate?,
    private val manifest: ModelManifest,
    val active: Accelerator,
    val fallback: String?,
) : TileModel, Closeable {
    private val codec = TensorCodec(manifest)
    private val size = manifest.tileSize
    private val input: ByteBuffer = TensorCodec.allocate(manifest.input, size, size)
    private val output: ByteBuffer = TensorCodec.allocate(manifest.output, size, size)

    override fun infer(tile: FloatArray, height: Int, width: Int, channels: Int): FloatArray {
        codec.encode(tile, height, width, input)
        output.clear()
        interpreter.run(input, output)
        output.rewind()
        return codec.decode(output, height, width)
    }

    override fun close() {
        interpreter.close()
        (delegate as? AutoCloseable)?.close()
    }

    companion object {
        const val ASSET_DIR = "model"

        fun readManifest(context: Context): ModelManifest =
            context.assets.open("$ASSET_DIR/model.manifest.json").use {
                ModelManifest.parse(it.readBytes().toString(Charsets.UTF_8))
            }

        /** Load the model on [wanted], falling back to CPU with the reason when it fails. */
        fun open(context: Context, manifest: ModelManifest, wanted: Accelerator, threads: Int): LiteRtTileModel {
            if (manifest.dynamicHw || manifest.tileSize <= 0) {
                throw ManifestForAppException("the app needs a fixed-shape model (export tflite-int8 with a tile size); " +
                    "this manifest has dynamic H/W")
            }
            val model = mapAsset(context, "$ASSET_DIR/${manifest.artifactFile}", manifest.bytes)
            if (wanted != Accelerator.CPU) {
                var delegate: Delegate? = null
                try {
                    delegate = createDelegate(wanted)
                    val options = Interpreter.Options().setNumThreads(threads).addDelegate(delegate)
                    return LiteRtTileModel(Interpreter(model, options), delegate, manifest, wanted, null)
                } catch (e: Exception) { // delegate missing, unsupported ops, driver refused the graph
                    (delegate as? AutoCloseable)?.close()
                    val why = "${wanted.label} unavailable (${e.message ?: e.javaClass.simpleName}); running on CPU"
                    return openCpu(model, manifest, threads, why)
                }
            }
            return openCpu(model, manifest, threads, null)
        }

        private fun openCpu(model: MappedByteBuffer, manifest: ModelManifest, threads: Int, why: String?) =
            LiteRtTileModel(Interpreter(model, Interpreter.Options().setNumThreads(threads)), null, manifest,
                Accelerator.CPU, why)

        private fun createDelegate(wanted: Accelerator): Delegate = when (wanted) {
            Accelerator.GPU -> {
                val compat = CompatibilityList()
                if (!compat.isDelegateSupportedOnThisDevice) {
                    throw IllegalStateException("GPU delegate not supported on this device")
                }
                GpuDelegate(compat.bestOptionsForThisDevice)
            }
            Accelerator.NNAPI -> NnApiDelegate()
            Accelerator.CPU -> throw IllegalArgumentException("CPU needs no delegate")
        }

        private fun mapAsset(context: Context, path: String, expectedBytes: Long): MappedByteBuffer {
            context.assets.openFd(path).use { fd ->
                if (fd.declaredLength != expectedBytes) {
                    throw ManifestForAppException("$path is ${fd.declaredLength} bytes, the manifest says $expectedBytes; " +
                        "re-run ./gradlew copyModel")
                }
                FileInputStream(fd.fileDescriptor).use { stream ->
                    return stream.channel.map(FileChannel.MapMode.READ_ONLY, fd.startOffset, fd.declaredLength)
                }
            }
        }
    }
}

/** A model/manifest the app cannot run, with the reason shown on screen. */
class ManifestForAppException(message: String) : RuntimeException(message)
