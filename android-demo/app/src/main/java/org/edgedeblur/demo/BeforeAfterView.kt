package org.edgedeblur.demo

import android.content.Context
import android.graphics.Bitmap
import android.graphics.Canvas
import android.graphics.Paint
import android.graphics.Rect
import android.graphics.RectF
import android.util.AttributeSet
import android.view.MotionEvent
import android.view.View

/** Before (left of the divider) / after (right) comparison; drag anywhere to move the divider. */
class BeforeAfterView @JvmOverloads constructor(context: Context, attrs: AttributeSet? = null) : View(context, attrs) {
    var before: Bitmap? = null
        set(value) { field = value; invalidate() }
    var after: Bitmap? = null
        set(value) { field = value; invalidate() }
    private var split = 0.5f
    private val line = Paint().apply { color = 0xFFFFFFFF.toInt(); strokeWidth = 4f }
    private val bitmapPaint = Paint(Paint.FILTER_BITMAP_FLAG)

    private fun fitRect(b: Bitmap): RectF {
        val scale = minOf(width / b.width.toFloat(), height / b.height.toFloat())
        val w = b.width * scale
        val h = b.height * scale
        return RectF((width - w) / 2, (height - h) / 2, (width + w) / 2, (height + h) / 2)
    }

    override fun onDraw(canvas: Canvas) {
        val b = before ?: return
        val dst = fitRect(b)
        canvas.drawBitmap(b, null, dst, bitmapPaint)
        val a = after ?: return
        val x = dst.left + split * dst.width()
        canvas.save()
        canvas.clipRect(x, dst.top, dst.right, dst.bottom)
        canvas.drawBitmap(a, Rect(0, 0, a.width, a.height), dst, bitmapPaint)
        canvas.restore()
        canvas.drawLine(x, dst.top, x, dst.bottom, line)
    }

    override fun onTouchEvent(event: MotionEvent): Boolean {
        val b = before ?: return false
        val dst = fitRect(b)
        split = ((event.x - dst.left) / dst.width()).coerceIn(0f, 1f)
        invalidate()
        if (event.action == MotionEvent.ACTION_UP) performClick()
        return true
    }

    override fun performClick(): Boolean = super.performClick()
}
