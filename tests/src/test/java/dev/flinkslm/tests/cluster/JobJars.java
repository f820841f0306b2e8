package dev.flinkslm.tests.cluster;

import dev.flinkslm.tests.cluster.jobs.StandInScreenJob;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Job jars for the real cluster. {@link #deployable} is the shipped artifact
 * ({@code jobs/target/flink-slm.jar}); {@link #withTestJobs} is a copy of it with the test-only
 * jobs of package {@code dev.flinkslm.tests.cluster.jobs} added, so that the stand-in job runs
 * with exactly the dependencies (Kafka connector, ORT, DJL, model weights) the real job ships.
 *
 * <p>Stateless; not meant for concurrent calls on the same output path.
 */
public final class JobJars {

    /** Where Maven writes the deployable jar, relative to the repository root. */
    public static final String DEPLOYABLE_PATH = "jobs/target/flink-slm.jar";

    /** Where the Docker images and Kubernetes deployments put it. */
    public static final String IMAGE_JAR_PATH = "/opt/flink/usrlib/flink-slm.jar";

    /** Main class of the deployable jar. */
    public static final String LAUNCHER = "dev.flinkslm.jobs.Launcher";

    private JobJars() {}

    /** The deployable shaded jar; fails with a hint if it was not built. */
    public static Path deployable(Path repoRoot) {
        Path jar = repoRoot.resolve(DEPLOYABLE_PATH);
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(
                    jar + " does not exist: build it first (mvn -pl jobs/cli -am package -DskipTests, "
                            + "or run the suite with mvn verify, which packages module jobs before tests)");
        }
        return jar;
    }

    /**
     * Copies the deployable jar to {@code target} and adds the compiled test jobs. The zip file
     * system copies the existing entries without recompressing them, so this takes about a second
     * for the ~200 MB jar.
     */
    public static Path withTestJobs(Path repoRoot, Path target) {
        try {
            Files.createDirectories(target.getParent());
            Files.copy(deployable(repoRoot), target, StandardCopyOption.REPLACE_EXISTING);
            Path classesRoot = Path.of(StandInScreenJob.class
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI());
            String pkg = StandInScreenJob.class.getPackageName().replace('.', '/');
            try (FileSystem zip = FileSystems.newFileSystem(target, Map.of());
                    Stream<Path> classes = Files.walk(classesRoot.resolve(pkg))) {
                for (Path c : classes.filter(Files::isRegularFile).toList()) {
                    Path inJar = zip.getPath(classesRoot.relativize(c).toString());
                    Files.createDirectories(inJar.getParent());
                    Files.copy(c, inJar, StandardCopyOption.REPLACE_EXISTING);
                }
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<String> entries(Path jar) throws IOException {
        try (FileSystem zip = FileSystems.newFileSystem(jar, Map.of());
                Stream<Path> all = Files.walk(zip.getPath("/"))) {
            return all.map(Path::toString).toList();
        }
    }
}
