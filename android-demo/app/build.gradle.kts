import java.security.MessageDigest

plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "org.edgedeblur.demo"
    compileSdk = 35

    defaultConfig {
        applicationId = "org.edgedeblur.demo"
        minSdk = 26 // LiteRT's minimum is API 21; 26 gives adaptive icons and java.time
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
    }

    buildTypes {
        release {
            isMinifyEnabled = false
        }
    }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions {
        jvmTarget = "17"
    }
    androidResources {
        // the model is memory-mapped from the APK: it must be stored uncompressed
        noCompress += "tflite"
    }
}

dependencies {
    implementation(project(":core"))
    implementation("com.google.ai.edge.litert:litert:1.4.0")
    implementation("com.google.ai.edge.litert:litert-gpu:1.4.0")
    implementation("com.google.ai.edge.litert:litert-gpu-api:1.4.0")
    implementation("androidx.appcompat:appcompat:1.7.0")
    implementation("androidx.activity:activity-ktx:1.9.3")
    implementation("androidx.lifecycle:lifecycle-runtime-ktx:2.8.7")
    implementation("androidx.exifinterface:exifinterface:1.3.7")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.9.0")
}

/**
 * copyModel: copy one edge-export artifact and its manifest into app/src/main/assets/model/.
 *
 *   ./gradlew copyModel -PexportDir=/path/to/export            (picks the single *.tflite-int8.manifest.json)
 *   ./gradlew copyModel -PexportDir=/path/to/export -Pmanifest=mnv2unet_s_deblur.tflite-int8.manifest.json
 *
 * The artifact's size and sha256 are checked against the manifest (as edgedeblur.runtime does), so
 * a truncated or stale copy never reaches the APK. The app reads everything else from the manifest.
 */
val copyModel by tasks.registering {
    group = "edgedeblur"
    description = "Copy an edge-export tflite artifact + manifest into the app's assets (-PexportDir=...)"
    val assetsDir = layout.projectDirectory.dir("src/main/assets/model")
    outputs.dir(assetsDir)
    outputs.upToDateWhen { false }
    doLast {
        val dirProp = project.findProperty("exportDir")?.toString()
            ?: throw GradleException("copyModel needs the edge-export folder: ./gradlew copyModel -PexportDir=/path/to/export")
        val dir = file(dirProp)
        if (!dir.isDirectory) throw GradleException("exportDir '$dir' is not a folder (given -PexportDir=$dirProp)")
        val wanted = project.findProperty("manifest")?.toString()
        val candidates = dir.listFiles { f -> f.name.endsWith(".manifest.json") }.orEmpty()
            .filter { wanted == null && it.name.contains(".tflite-") || it.name == wanted }
        val manifest = when {
            candidates.size == 1 -> candidates[0]
            candidates.isEmpty() -> throw GradleException(
                "no ${wanted ?: "*.tflite-*.manifest.json"} in $dir; run: edge-export <model> --target tflite-int8 --out $dir")
            else -> throw GradleException(
                "several tflite manifests in $dir (${candidates.joinToString { it.name }}); choose one with -Pmanifest=NAME")
        }
        val text = manifest.readText()
        fun field(key: String): String = Regex("\"$key\"\\s*:\\s*\"?([^\",}]+)").find(text)?.groupValues?.get(1)?.trim()
            ?: throw GradleException("$manifest has no '$key' field; re-export with edge-export")
        val artifact = File(dir, field("file"))
        if (!artifact.isFile) throw GradleException("artifact ${artifact.name} named in $manifest is missing")
        if (!artifact.name.endsWith(".tflite")) throw GradleException("${artifact.name} is not a .tflite file; the app runs LiteRT artifacts (tflite-int8, tflite-fp32, tflite-fp16)")
        val bytes = field("bytes").toLong()
        if (artifact.length() != bytes) throw GradleException("${artifact.name}: ${artifact.length()} bytes, manifest says $bytes (truncated or replaced?)")
        val digest = MessageDigest.getInstance("SHA-256").digest(artifact.readBytes()).joinToString("") { "%02x".format(it) }
        if (digest != field("sha256")) throw GradleException("${artifact.name}: sha256 differs from the manifest; re-copy or re-export")
        val out = assetsDir.asFile
        out.deleteRecursively()
        out.mkdirs()
        artifact.copyTo(File(out, artifact.name))
        manifest.copyTo(File(out, "model.manifest.json"))
        println("copyModel: ${artifact.name} (${artifact.length()} bytes, sha256 ok) + manifest -> $out")
    }
}

tasks.named("preBuild") {
    doFirst {
        val m = layout.projectDirectory.file("src/main/assets/model/model.manifest.json").asFile
        if (!m.isFile) throw GradleException("no model in the app: run ./gradlew copyModel -PexportDir=/path/to/edge-export/output first")
    }
}
