package org.edgedeblur.demo

import android.annotation.SuppressLint
import android.content.Context
import android.graphics.ImageFormat
import android.hardware.Sensor
import android.hardware.SensorEvent
import android.hardware.SensorEventListener
import android.hardware.SensorManager
import android.hardware.camera2.CameraCaptureSession
import android.hardware.camera2.CameraCharacteristics
import android.hardware.camera2.CameraDevice
import android.hardware.camera2.CameraManager
import android.hardware.camera2.CameraMetadata
import android.hardware.camera2.CaptureRequest
import android.hardware.camera2.TotalCaptureResult
import android.media.Image
import android.media.ImageReader
import android.os.Handler
import android.os.HandlerThread
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.delay
import kotlinx.coroutines.withTimeout
import org.edgedeblur.core.GyroPsf
import kotlin.coroutines.resume
import kotlin.coroutines.resumeWithException
import kotlin.coroutines.suspendCoroutine

/**
 * "Deblur with gyro": one still from the back camera (Camera2, YUV, sensor orientation, OIS
 * off) while the gyroscope is logged (Sensor.TYPE_GYROSCOPE at the fastest rate, from before the
 * exposure until after its last row), and the camera model of that frame from the capture
 * result: SENSOR_TIMESTAMP, SENSOR_EXPOSURE_TIME, SENSOR_ROLLING_SHUTTER_SKEW,
 * LENS_INTRINSIC_CALIBRATION (pre-correction active array coordinates, scaled to the output size;
 * lens distortion is ignored)
 * and SENSOR_ORIENTATION. The core turns them into a PSF ([GyroPsf.psfGrid]).
 *
 * Not run on a device here (no Android SDK on the development machine): see docs/android.md.
 */
class GyroCapture(private val context: Context) {
    /** The frame in sensor orientation (ARGB), its camera model and the gyro log around it. */
    class Shot(val argb: IntArray, val width: Int, val height: Int, val sensorOrientation: Int,
               val camera: GyroPsf.Camera, val log: GyroPsf.GyroLog, val gyroHz: Double)

    @SuppressLint("MissingPermission") // MainActivity asks for CAMERA first
    suspend fun capture(maxSide: Int = 1600): Shot {
        val sensors = context.getSystemService(SensorManager::class.java)
        val gyro = sensors.getDefaultSensor(Sensor.TYPE_GYROSCOPE)
            ?: throw IllegalStateException("this device has no gyroscope")
        val cameras = context.getSystemService(CameraManager::class.java)
        val id = cameras.cameraIdList.firstOrNull {
            cameras.getCameraCharacteristics(it).get(CameraCharacteristics.LENS_FACING) == CameraMetadata.LENS_FACING_BACK
        } ?: throw IllegalStateException("no back camera")
        val chars = cameras.getCameraCharacteristics(id)
        if (chars.get(CameraCharacteristics.SENSOR_INFO_TIMESTAMP_SOURCE) !=
            CameraMetadata.SENSOR_INFO_TIMESTAMP_SOURCE_REALTIME) {
            throw IllegalStateException("the camera's timestamps are not on the gyro's clock (timestamp source UNKNOWN)")
        }
        val intrinsics = chars.get(CameraCharacteristics.LENS_INTRINSIC_CALIBRATION)
            ?: throw IllegalStateException("the camera does not report LENS_INTRINSIC_CALIBRATION")
        val array = chars.get(CameraCharacteristics.SENSOR_INFO_PRE_CORRECTION_ACTIVE_ARRAY_SIZE)
            ?: throw IllegalStateException("no pre-correction active array size")
        val orientation = chars.get(CameraCharacteristics.SENSOR_ORIENTATION) ?: 90
        val sizes = chars.get(CameraCharacteristics.SCALER_STREAM_CONFIGURATION_MAP)!!.getOutputSizes(ImageFormat.YUV_420_888)
        // the whole field of view (the array's aspect ratio: a cropped stream would need the crop's offset)
        val aspect = array.width().toDouble() / array.height()
        val full = sizes.filter { kotlin.math.abs(it.width.toDouble() / it.height - aspect) < 0.01 * aspect }
            .ifEmpty { throw IllegalStateException("no YUV size with the sensor's aspect ratio") }
        val size = full.filter { maxOf(it.width, it.height) <= maxSide }.maxByOrNull { it.width * it.height }
            ?: full.minBy { it.width * it.height }

        val thread = HandlerThread("gyro-capture").apply { start() }
        val handler = Handler(thread.looper)
        val recorder = GyroPsf.GyroLog.Recorder()
        val listener = object : SensorEventListener {
            override fun onSensorChanged(event: SensorEvent) = recorder.add(event.timestamp, event.values)
            override fun onAccuracyChanged(sensor: Sensor, accuracy: Int) = Unit
        }
        sensors.registerListener(listener, gyro, SensorManager.SENSOR_DELAY_FASTEST, handler)
        val reader = ImageReader.newInstance(size.width, size.height, ImageFormat.YUV_420_888, 3)
        var device: CameraDevice? = null
        try {
            device = open(cameras, id, handler)
            val session = session(device, reader, handler)
            // let auto exposure settle on a few frames, then one still with OIS off (OIS moves the lens,
            // which the rotation-only model does not know)
            val preview = device.createCaptureRequest(CameraDevice.TEMPLATE_PREVIEW).apply { addTarget(reader.surface) }
            reader.setOnImageAvailableListener({ r -> r.acquireLatestImage()?.close() }, handler)
            session.setRepeatingRequest(preview.build(), null, handler)
            delay(800)
            session.stopRepeating()
            delay(100)
            val frame = CompletableDeferred<Image>()
            reader.setOnImageAvailableListener({ r -> r.acquireLatestImage()?.let { if (!frame.complete(it)) it.close() } }, handler)
            val still = device.createCaptureRequest(CameraDevice.TEMPLATE_STILL_CAPTURE).apply {
                addTarget(reader.surface)
                set(CaptureRequest.LENS_OPTICAL_STABILIZATION_MODE, CameraMetadata.LENS_OPTICAL_STABILIZATION_MODE_OFF)
                set(CaptureRequest.CONTROL_VIDEO_STABILIZATION_MODE, CameraMetadata.CONTROL_VIDEO_STABILIZATION_MODE_OFF)
            }
            val result = CompletableDeferred<TotalCaptureResult>()
            session.capture(still.build(), object : CameraCaptureSession.CaptureCallback() {
                override fun onCaptureCompleted(s: CameraCaptureSession, r: CaptureRequest, res: TotalCaptureResult) {
                    result.complete(res)
                }
            }, handler)
            val res = withTimeout(5000) { result.await() }
            val image = withTimeout(5000) { frame.await() }
            val timestamp = res.get(android.hardware.camera2.CaptureResult.SENSOR_TIMESTAMP)!!
            val exposure = res.get(android.hardware.camera2.CaptureResult.SENSOR_EXPOSURE_TIME)!!
            val skew = res.get(android.hardware.camera2.CaptureResult.SENSOR_ROLLING_SHUTTER_SKEW) ?: 0L
            // keep logging until the last row's exposure has ended, plus a margin for the rate interpolation
            withTimeout(2000) {
                while (recorder.lastNs() < timestamp + skew + exposure + 20_000_000L) delay(10)
            }
            val argb = image.use { yuvToArgb(it) }
            val sx = size.width.toDouble() / array.width()
            val sy = size.height.toDouble() / array.height()
            val k = floatArrayOf((intrinsics[0] * sx).toFloat(), (intrinsics[1] * sy).toFloat(),
                ((intrinsics[2] + 0.5) * sx - 0.5).toFloat(), ((intrinsics[3] + 0.5) * sy - 0.5).toFloat())
            val camera = GyroPsf.Camera.fromCapture(timestamp, exposure, skew, k, size.width, size.height,
                GyroPsf.backCameraSensor(orientation))
            val log = recorder.toLog()
            val hz = (log.t.size - 1) / (log.t.last() - log.t.first())
            return Shot(argb, size.width, size.height, orientation, camera, log, hz)
        } finally {
            sensors.unregisterListener(listener)
            device?.close()
            reader.close()
            thread.quitSafely()
        }
    }

    @SuppressLint("MissingPermission")
    private suspend fun open(cameras: CameraManager, id: String, handler: Handler): CameraDevice =
        suspendCoroutine { cont ->
            cameras.openCamera(id, object : CameraDevice.StateCallback() {
                override fun onOpened(camera: CameraDevice) = cont.resume(camera)
                override fun onDisconnected(camera: CameraDevice) = camera.close()
                override fun onError(camera: CameraDevice, error: Int) {
                    camera.close()
                    cont.resumeWithException(IllegalStateException("camera error $error"))
                }
            }, handler)
        }

    @Suppress("DEPRECATION") // createCaptureSession(List, ...) is the API 24+ form; the app's minSdk is 26
    private suspend fun session(device: CameraDevice, reader: ImageReader, handler: Handler): CameraCaptureSession =
        suspendCoroutine { cont ->
            device.createCaptureSession(listOf(reader.surface), object : CameraCaptureSession.StateCallback() {
                override fun onConfigured(session: CameraCaptureSession) = cont.resume(session)
                override fun onConfigureFailed(session: CameraCaptureSession) =
                    cont.resumeWithException(IllegalStateException("camera session configuration failed"))
            }, handler)
        }

    companion object {
        /** YUV_420_888 -> opaque ARGB, BT.601 full range (JFIF), nearest-neighbour chroma. */
        fun yuvToArgb(image: Image): IntArray {
            val w = image.width
            val h = image.height
            val (yp, up, vp) = image.planes
            val out = IntArray(w * h)
            for (r in 0 until h) {
                for (c in 0 until w) {
                    val y = yp.buffer.get(r * yp.rowStride + c * yp.pixelStride).toInt() and 0xFF
                    val ci = (r / 2) * up.rowStride + (c / 2) * up.pixelStride
                    val u = (up.buffer.get(ci).toInt() and 0xFF) - 128
                    val v = (vp.buffer.get((r / 2) * vp.rowStride + (c / 2) * vp.pixelStride).toInt() and 0xFF) - 128
                    val red = (65536 * y + 91881 * v + 32768) shr 16
                    val green = (65536 * y - 22554 * u - 46802 * v + 32768) shr 16
                    val blue = (65536 * y + 116130 * u + 32768) shr 16
                    out[r * w + c] = (0xFF shl 24) or (red.coerceIn(0, 255) shl 16) or
                        (green.coerceIn(0, 255) shl 8) or blue.coerceIn(0, 255)
                }
            }
            return out
        }
    }
}
