package dev.flinkslm.tests.cluster;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;

/**
 * The classpath of a real Flink process: what a Flink distribution's {@code lib/} would hold, taken
 * from jars already resolved by Maven for the {@code tests} module (so it works from a clean clone
 * without flink-dist), plus the native-library jars listed in {@code docker/conf/native-libs.txt}.
 *
 * <p>Jars are picked from the current JVM's {@code java.class.path} by Maven coordinates
 * (artifactId of the local-repository layout). Everything else on the test classpath (JUnit, the
 * Kafka broker and connector, the project's own modules) is left out on purpose: job code must
 * come from the submitted jar, as on a production cluster.
 *
 * <p>Usage: {@code List<Path> cp = ClusterClasspath.fromTestClasspath(repoRoot);}
 *
 * <p>Stateless; safe from any thread.
 */
public final class ClusterClasspath {

    /**
     * ArtifactIds of the dependency closure of flink-clients, flink-streaming-java,
     * flink-runtime-web, flink-statebackend-rocksdb 2.2.1 and the log4j 2 bindings, i.e. what
     * {@code mvn dependency:list} prints for those artifacts. A version bump of Flink that adds a
     * jar shows up as a ClassNotFoundException in the JobManager log; {@link #requireComplete}
     * catches jars that disappear.
     */
    static final Set<String> FLINK_LIB_ARTIFACTS = Set.of(
            "flink-annotations",
            "flink-clients",
            "flink-connector-datagen",
            "flink-core",
            "flink-core-api",
            "flink-datastream",
            "flink-datastream-api",
            "flink-file-sink-common",
            "flink-hadoop-fs",
            "flink-metrics-core",
            "flink-queryable-state-client-java",
            "flink-rpc-akka-loader",
            "flink-rpc-core",
            "flink-runtime",
            "flink-runtime-web",
            "flink-shaded-asm-9",
            "flink-shaded-guava",
            "flink-shaded-jackson",
            "flink-shaded-netty",
            "flink-shaded-zookeeper-3",
            "flink-statebackend-rocksdb",
            "flink-streaming-java",
            "lz4-java",
            "kryo",
            "minlog",
            "reflectasm",
            "jsr305",
            "frocksdbjni",
            "commons-cli",
            "commons-collections",
            "commons-io",
            "commons-compress",
            "commons-lang3",
            "commons-math3",
            "commons-text",
            "javassist",
            "objenesis",
            "slf4j-api",
            "snakeyaml-engine",
            "snappy-java",
            "async-profiler",
            "log4j-1.2-api",
            "log4j-api",
            "log4j-core",
            "log4j-slf4j-impl");

    private ClusterClasspath() {}

    /**
     * Builds the cluster classpath from this JVM's classpath.
     *
     * @param repoRoot root of the flink-slm checkout (holds {@code docker/conf/native-libs.txt})
     * @param withNativeLibs whether ORT/DJL jars go on the cluster classpath (production layout);
     *     {@code false} only to demonstrate the failure it prevents
     */
    public static List<Path> fromTestClasspath(Path repoRoot, boolean withNativeLibs) {
        Map<String, Path> byArtifact = new LinkedHashMap<>();
        // Surefire/failsafe start tests from a manifest-only jar and publish the real classpath here.
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        for (String entry : classpath.split(File.pathSeparator)) {
            Path jar = Path.of(entry);
            if (!entry.endsWith(".jar")
                    || jar.getParent() == null
                    || jar.getParent().getParent() == null) {
                continue;
            }
            // Local repository layout: .../<artifactId>/<version>/<artifactId>-<version>[-classifier].jar
            String artifactId = jar.getParent().getParent().getFileName().toString();
            String version = jar.getParent().getFileName().toString();
            if (!jar.getFileName().toString().equals(artifactId + "-" + version + ".jar")) {
                continue; // test-jars and other classifiers never belong in lib/
            }
            byArtifact.putIfAbsent(artifactId, jar);
        }
        List<Path> result = new ArrayList<>();
        for (String artifact : FLINK_LIB_ARTIFACTS) {
            Path jar = byArtifact.get(artifact);
            if (jar != null) {
                result.add(jar);
            }
        }
        requireComplete(result, FLINK_LIB_ARTIFACTS.size(), "Flink lib", byArtifact.keySet());
        if (withNativeLibs) {
            List<Path> natives = new ArrayList<>();
            for (NativeLib lib : NativeLib.read(repoRoot)) {
                Path jar = byArtifact.get(lib.artifactId());
                // Same version as the images get, or the harness would test something else.
                if (jar != null && jar.getFileName().toString().equals(lib.jarName())) {
                    natives.add(jar);
                }
            }
            requireComplete(natives, NativeLib.read(repoRoot).size(), "native-libs.txt", byArtifact.keySet());
            result.addAll(natives);
        }
        return result;
    }

    /**
     * Writes a manifest-only jar whose {@code Class-Path} lists {@code jars} and returns it, to be
     * the whole {@code -cp} of a Flink process. Why: ONNX Runtime 1.29.0's native initialisation
     * (OrtEnvironment creation) crashes the JVM with SIGSEGV when the {@code java.class.path}
     * property is longer than about 4 KB, which ~50 absolute Maven-repository paths are. A
     * flink-dist lib/ (short paths) stays below that; so does this jar.
     */
    public static Path pathingJar(List<Path> jars, Path target) {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes()
                .put(
                        Attributes.Name.CLASS_PATH,
                        jars.stream().map(j -> j.toUri().toString()).collect(Collectors.joining(" ")));
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(target), manifest)) {
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write " + target, e);
        }
    }

    private static void requireComplete(List<Path> found, int expected, String what, Set<String> available) {
        if (found.size() != expected) {
            throw new IllegalStateException("Only " + found.size() + " of " + expected + " " + what
                    + " jars are on the test classpath. Run the tests through Maven from the repository root "
                    + "(mvn verify, or tests/cluster-e2e.sh) so that module tests has its Flink test dependencies. "
                    + "Found: "
                    + found.stream().map(p -> p.getFileName().toString()).collect(Collectors.joining(", ")));
        }
    }

    /** One line of {@code docker/conf/native-libs.txt}. */
    public record NativeLib(String groupId, String artifactId, String version) {

        /** The jar file name as Maven and the Docker images name it. */
        public String jarName() {
            return artifactId + "-" + version + ".jar";
        }

        /** Reads {@code docker/conf/native-libs.txt} under the given repository root. */
        public static List<NativeLib> read(Path repoRoot) {
            Path file = repoRoot.resolve("docker/conf/native-libs.txt");
            try {
                List<NativeLib> libs = new ArrayList<>();
                for (String line : Files.readAllLines(file)) {
                    String trimmed = line.strip();
                    if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                        continue;
                    }
                    String[] parts = trimmed.split(":");
                    if (parts.length != 3) {
                        throw new IllegalStateException(
                                file + ": expected groupId:artifactId:version, got '" + trimmed + "'");
                    }
                    libs.add(new NativeLib(parts[0], parts[1], parts[2]));
                }
                return libs;
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot read " + file, e);
            }
        }
    }
}
