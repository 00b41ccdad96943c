// edgedeblur Android demo: ":core" is plain Java 17 (tested on any JDK), ":app" is the Android UI.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}
dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}
rootProject.name = "edgedeblur-demo"
include(":core", ":app")
