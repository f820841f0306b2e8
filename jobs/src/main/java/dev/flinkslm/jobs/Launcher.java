package dev.flinkslm.jobs;

import java.io.File;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Entry point of {@code flink-slm.jar}.
 *
 * <p>On a Flink cluster the Flink runtime is on the classpath and the command line runs directly.
 * Run with {@code java -jar}, the runtime is missing from the (deployable, Flink-free) jar; the
 * launcher then adds the Flink jars that the build copied to {@code lib/} next to the jar and runs
 * the command line in an embedded cluster.
 */
public final class Launcher {

    private static final String FLINK_PROBE = "org.apache.flink.streaming.api.environment.StreamExecutionEnvironment";
    private static final String CLI = "dev.flinkslm.jobs.FlinkSlmCli";

    private Launcher() {}

    public static void main(String[] args) throws Exception {
        if (isPresent(FLINK_PROBE, Launcher.class.getClassLoader())) {
            FlinkSlmCli.main(args);
            return;
        }
        Path jar = Path.of(Launcher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path lib = jar.getParent().resolve("lib");
        if (!Files.isDirectory(lib)) {
            System.err.println("The Flink runtime is not on the classpath and " + lib + " does not exist."
                    + " Build with 'mvn -DskipTests package' (it copies the runtime to jobs/target/lib),"
                    + " or submit the jar to a Flink cluster with 'flink run'.");
            System.exit(2);
        }
        List<URL> urls = new ArrayList<>();
        urls.add(jar.toUri().toURL());
        try (Stream<Path> jars = Files.list(lib)) {
            for (Path p : jars.filter(p -> p.toString().endsWith(".jar")).sorted().toList()) {
                urls.add(p.toUri().toURL());
            }
        }
        if (System.getProperty("log4j.configurationFile") == null && System.getProperty("log4j2.configurationFile") == null) {
            System.setProperty("log4j.configurationFile", "flink-slm-log4j2.properties");
        }
        ClassLoader loader = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
        Thread.currentThread().setContextClassLoader(loader);
        Method main = loader.loadClass(CLI).getMethod("main", String[].class);
        main.invoke(null, (Object) args);
    }

    private static boolean isPresent(String className, ClassLoader loader) {
        try {
            Class.forName(className, false, loader);
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /** The jar's own location, for messages. */
    static String jarName() {
        return new File(Launcher.class.getProtectionDomain().getCodeSource().getLocation().getPath()).getName();
    }
}
