package dev.flinkslm.jobs;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * Entry point of {@code flink-slm.jar}.
 *
 * <p>On a Flink cluster the Flink runtime is on the classpath and the command line runs directly.
 * Run with {@code java -jar}, the runtime is missing from the (deployable, Flink-free) jar; the
 * launcher then starts a child JVM with the jar and the Flink jars that the build copied to
 * {@code lib/} next to it on the classpath, which runs the command line (jobs on an embedded cluster).
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
        // A child JVM with a flat classpath rather than a URLClassLoader in this one: Flink's embedded
        // cluster resolves user-code classes through loaders whose parent is the application class
        // loader, which would not see Flink's own classes (ClassNotFoundException at job start).
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.addAll(moduleFlags(jar));
        if (System.getProperty("log4j.configurationFile") == null && System.getProperty("log4j2.configurationFile") == null) {
            command.add("-Dlog4j.configurationFile=flink-slm-log4j2.properties");
        }
        command.add("-cp");
        command.add(jar + File.pathSeparator + lib.resolve("*"));
        command.add(CLI);
        command.addAll(List.of(args));
        Process child = new ProcessBuilder(command).inheritIO().start();
        // Ctrl-C reaches the child directly (same process group); a plain kill of this process is
        // passed on, and the child's own shutdown hook prints its summary before we exit.
        Thread forward = new Thread(() -> {
            if (child.isAlive()) {
                child.destroy();
                try {
                    child.waitFor(15, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }, "launcher-forward-exit");
        Runtime.getRuntime().addShutdownHook(forward);
        int code = child.waitFor();
        try {
            Runtime.getRuntime().removeShutdownHook(forward);
        } catch (IllegalStateException shuttingDown) {
            // Exit already under way.
        }
        System.exit(code);
    }

    /** The --add-opens/--add-exports flags the jar manifest grants, for the child JVM. */
    private static List<String> moduleFlags(Path jar) throws IOException {
        List<String> flags = new ArrayList<>();
        try (JarFile file = new JarFile(jar.toFile())) {
            Manifest manifest = file.getManifest();
            if (manifest == null) {
                return flags;
            }
            Attributes main = manifest.getMainAttributes();
            for (String[] kind : new String[][] {{"Add-Opens", "--add-opens="}, {"Add-Exports", "--add-exports="}}) {
                String value = main.getValue(kind[0]);
                if (value != null) {
                    for (String target : value.trim().split("\\s+")) {
                        flags.add(kind[1] + target + "=ALL-UNNAMED");
                    }
                }
            }
            if (main.getValue("Enable-Native-Access") != null && Runtime.version().feature() >= 22) {
                flags.add("--enable-native-access=ALL-UNNAMED");
            }
        }
        return flags;
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
