// Plain JVM module: manifest, tiling, blending, quantization. No Android imports, so its tests run
// on any JDK (here: tests/test_android_jvm.py compiles it with javac and runs JUnit 4).
plugins {
    `java-library`
}

java {
    sourceCompatibility = JavaVersion.VERSION_17
    targetCompatibility = JavaVersion.VERSION_17
}

dependencies {
    testImplementation("junit:junit:4.13.2")
}

tasks.test {
    // golden vectors written by benchmarks/make_golden_vectors.py from the Python runtime
    systemProperty("golden.dir", rootProject.projectDir.resolve("../tests/golden").absolutePath)
}
