package org.edgedeblur.demo

import android.Manifest
import android.content.pm.PackageManager
import android.graphics.Bitmap
import android.graphics.Matrix
import android.net.Uri
import android.os.Bundle
import android.widget.ArrayAdapter
import android.widget.Button
import android.widget.Spinner
import android.widget.TextView
import android.widget.Toast
import androidx.activity.result.PickVisualMediaRequest
import androidx.activity.result.contract.ActivityResultContracts
import androidx.appcompat.app.AppCompatActivity
import androidx.core.content.FileProvider
import androidx.lifecycle.lifecycleScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import org.edgedeblur.core.DeblurPipeline
import org.edgedeblur.core.GyroPsf
import org.edgedeblur.core.ModelManifest
import org.edgedeblur.core.Pixels
import org.edgedeblur.core.PixelSource
import org.edgedeblur.core.TiledPrior
import org.edgedeblur.core.TiledRestorer
import java.io.File

/**
 * Pick or take a photo, restore it with the bundled model (tiles from the manifest), compare
 * before/after with a slider, see latency per tile and per image, save the result as a new file.
 */
class MainActivity : AppCompatActivity() {
    private lateinit var status: TextView
    private lateinit var compare: BeforeAfterView
    private lateinit var accelerator: Spinner
    private lateinit var saveButton: Button
    private var manifest: ModelManifest? = null
    private var source: Bitmap? = null
    private var sourceName = "photo"
    private var result: Bitmap? = null
    private var cameraUri: Uri? = null

    private val pick = registerForActivityResult(ActivityResultContracts.PickVisualMedia()) { uri ->
        if (uri != null) loadPhoto(uri, uri.lastPathSegment ?: "photo")
    }
    private val cameraPermission = registerForActivityResult(ActivityResultContracts.RequestPermission()) { ok ->
        if (ok) deblurWithGyro() else status.text = getString(R.string.error, "camera permission refused")
    }
    private val takePicture = registerForActivityResult(ActivityResultContracts.TakePicture()) { ok ->
        val uri = cameraUri
        if (ok && uri != null) loadPhoto(uri, "camera")
    }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContentView(R.layout.activity_main)
        status = findViewById(R.id.status)
        compare = findViewById(R.id.compare)
        accelerator = findViewById(R.id.accelerator)
        saveButton = findViewById(R.id.save)
        accelerator.adapter = ArrayAdapter(this, android.R.layout.simple_spinner_dropdown_item,
            Accelerator.entries.map { it.label })
        manifest = try {
            LiteRtTileModel.readManifest(this).also {
                status.text = getString(R.string.model_info, it.modelName, it.precision, it.tileSize, it.tileOverlap,
                    it.input.dtype, it.input.layout)
            }
        } catch (e: Exception) {
            status.text = getString(R.string.no_model, e.message)
            null
        }
        findViewById<Button>(R.id.pick).setOnClickListener {
            pick.launch(PickVisualMediaRequest(ActivityResultContracts.PickVisualMedia.ImageOnly))
        }
        findViewById<Button>(R.id.camera).setOnClickListener { launchCamera() }
        findViewById<Button>(R.id.restore).setOnClickListener { restore() }
        saveButton.setOnClickListener { save() }
        findViewById<Button>(R.id.gyro).setOnClickListener {
            if (checkSelfPermission(Manifest.permission.CAMERA) == PackageManager.PERMISSION_GRANTED) deblurWithGyro()
            else cameraPermission.launch(Manifest.permission.CAMERA)
        }
        saveButton.isEnabled = false
    }

    private fun launchCamera() {
        val dir = File(cacheDir, "camera").apply { mkdirs() }
        val file = File(dir, "capture_${System.currentTimeMillis()}.jpg")
        val uri = FileProvider.getUriForFile(this, "$packageName.files", file)
        cameraUri = uri
        takePicture.launch(uri)
    }

    private fun loadPhoto(uri: Uri, name: String) {
        lifecycleScope.launch {
            try {
                val bitmap = withContext(Dispatchers.IO) { ImageIo.load(this@MainActivity, uri) }
                source = bitmap
                sourceName = name.substringBeforeLast('.').filter { it.isLetterOrDigit() || it == '_' }.ifEmpty { "photo" }
                result = null
                saveButton.isEnabled = false
                compare.before = bitmap
                compare.after = null
                status.text = getString(R.string.loaded, bitmap.width, bitmap.height)
            } catch (e: Exception) {
                status.text = getString(R.string.error, "could not open the photo: ${e.message}")
            }
        }
    }

    private fun restore() {
        val m = manifest ?: return toast(getString(R.string.no_model, "see README"))
        val bitmap = source ?: return toast(getString(R.string.pick_first))
        val wanted = Accelerator.entries[accelerator.selectedItemPosition]
        status.text = getString(R.string.working)
        lifecycleScope.launch {
            try {
                val report = withContext(Dispatchers.Default) { runModel(m, bitmap, wanted) }
                result = report.bitmap
                compare.after = report.bitmap
                saveButton.isEnabled = true
                status.text = report.text
            } catch (e: Exception) {
                status.text = getString(R.string.error, e.message ?: e.javaClass.simpleName)
            }
        }
    }

    private class Report(val bitmap: Bitmap, val text: String)

    private fun runModel(m: ModelManifest, bitmap: Bitmap, wanted: Accelerator): Report {
        val w = bitmap.width
        val h = bitmap.height
        val argb = IntArray(w * h)
        bitmap.getPixels(argb, 0, w, 0, 0, w, h)
        val threads = Runtime.getRuntime().availableProcessors().coerceIn(1, 4)
        LiteRtTileModel.open(this, m, wanted, threads).use { model ->
            val restorer = TiledRestorer(m)
            val tileNanos = ArrayList<Long>()
            val progress = TiledRestorer.Progress { done, total, nanos ->
                tileNanos.add(nanos)
                if (done % 8 == 0 || done == total) runOnUiThread { status.text = getString(R.string.progress, done, total) }
            }
            val t0 = System.nanoTime()
            val out = if (m.input.channels == 3) {
                Pixels.toArgb(restorer.restore(PixelSource.ofArgb(argb, w, h, -1), model, progress), w, h, 3)
            } else { // a grey model restores each colour channel on its own (as the Python runner does)
                val planes = (0..2).map { c -> restorer.restore(PixelSource.ofArgb(argb, w, h, c), model, progress) }
                Pixels.planesToArgb(planes[0], planes[1], planes[2])
            }
            val totalMs = (System.nanoTime() - t0) / 1e6
            val sorted = tileNanos.sorted()
            val medianMs = sorted[sorted.size / 2] / 1e6
            val restored = Bitmap.createBitmap(out, w, h, Bitmap.Config.ARGB_8888)
            val text = getString(R.string.done, w, h, model.active.label, sorted.size, medianMs, totalMs) +
                (model.fallback?.let { "\n" + getString(R.string.fallback, it) } ?: "")
            return Report(restored, text)
        }
    }

    /**
     * "Deblur with gyro": capture a still while logging the gyroscope (GyroCapture), make its PSF
     * from the log and the capture result (GyroPsf), and run the manifest's deblur pipeline with the
     * bundled prior (an `edge-export deblur` tflite artifact: RGB + noise map in) through the core.
     */
    private fun deblurWithGyro() {
        val m = manifest ?: return toast(getString(R.string.no_model, "see README"))
        if (!m.noiseMap || m.pipeline == null) return toast(getString(R.string.need_prior))
        val wanted = Accelerator.entries[accelerator.selectedItemPosition]
        status.text = getString(R.string.gyro_capturing)
        lifecycleScope.launch {
            try {
                val shot = GyroCapture(this@MainActivity).capture()
                status.text = getString(R.string.working)
                val (before, report) = withContext(Dispatchers.Default) { runGyro(m, shot, wanted) }
                source = before
                sourceName = "gyro"
                compare.before = before
                result = report.bitmap
                compare.after = report.bitmap
                saveButton.isEnabled = true
                status.text = report.text
            } catch (e: Exception) {
                status.text = getString(R.string.error, e.message ?: e.javaClass.simpleName)
            }
        }
    }

    private fun runGyro(m: ModelManifest, shot: GyroCapture.Shot, wanted: Accelerator): Pair<Bitmap, Report> {
        val w = shot.width
        val h = shot.height
        val t0 = System.nanoTime()
        val grid = GyroPsf.psfGrid(shot.camera, shot.log, 1, 1, 0) // the frame's PSF (the core's data step is one PSF)
        val psfMs = (System.nanoTime() - t0) / 1e6
        val cfg = DeblurPipeline.Config.fromMap(m.pipeline).apply { psfGrid = true } // the runtime's gyro loop
        val rgb = ByteArray(3 * w * h)
        for (i in 0 until w * h) {
            for (c in 0 until 3) rgb[3 * i + c] = Pixels.channel(shot.argb[i], c).toByte()
        }
        val threads = Runtime.getRuntime().availableProcessors().coerceIn(1, 4)
        LiteRtTileModel.open(this, m, wanted, threads).use { model ->
            val pipe = DeblurPipeline(TiledPrior(model, m.tileSize, m.tileOverlap), cfg)
            val t1 = System.nanoTime()
            val out = pipe.restore(rgb, h, w, grid.kernels[0][0], grid.size, grid.size, -1.0)
            val totalMs = (System.nanoTime() - t1) / 1e6
            val upright = Matrix().apply { postRotate(shot.sensorOrientation.toFloat()) }
            fun bitmap(argb: IntArray): Bitmap = Bitmap.createBitmap(argb, w, h, Bitmap.Config.ARGB_8888).let {
                Bitmap.createBitmap(it, 0, 0, w, h, upright, false)
            }
            val text = getString(R.string.gyro_done, w, h, shot.log.t.size, shot.gyroHz, grid.size, grid.size, psfMs,
                pipe.lastSigma, pipe.lastDataNanos / 1e6, pipe.lastPriorNanos / 1e6, totalMs, model.active.label) +
                (model.fallback?.let { "\n" + getString(R.string.fallback, it) } ?: "")
            return Pair(bitmap(shot.argb), Report(bitmap(Pixels.toArgb(out, w, h, 3)), text))
        }
    }

    private fun save() {
        val bitmap = result ?: return
        lifecycleScope.launch {
            try {
                val uri = withContext(Dispatchers.IO) { ImageIo.saveNew(this@MainActivity, bitmap, sourceName) }
                toast(getString(R.string.saved, uri.toString()))
            } catch (e: Exception) {
                status.text = getString(R.string.error, "could not save: ${e.message}")
            }
        }
    }

    private fun toast(text: String) {
        Toast.makeText(this, text, Toast.LENGTH_LONG).show()
    }
}
