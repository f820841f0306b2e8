package dev.flinkslm.jobs;

import dev.flinkslm.connectors.Redaction;
import org.apache.flink.annotation.Internal;

import java.io.File;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Entry point of {@code flink-slm.jar}.
 *
 * <p>On a Flink cluster the Flink runtime is on the classpath and the command line runs directly.
 * Run with {@code java -jar}, the runtime is missing from the (deployable, Flink-free) jar; the
 * launcher then runs the command line in a child JVM whose class path adds the Flink jars that the
 * build copied to {@code lib/} next to the jar, and the job runs on an embedded cluster.
 */
@Internal
public final class Launcher {

    private static final String FLINK_PROBE = "org.apache.flink.streaming.api.environment.StreamExecutionEnvironment";
    private static final String CLI = "dev.flinkslm.jobs.FlinkSlmCli";
    private static final int MAX_SUMMARY = 4000;

    private Launcher() {}

    public static void main(String[] args) throws Exception {
        if (isPresent(FLINK_PROBE, Launcher.class.getClassLoader())) {
            // Inside a Flink client or JobManager (flink run, REST /jars/run): never System.exit, which
            // would take the JobManager down; a failure is an exception Flink reports for the submission.
            // The exception is all a REST submission shows, so it carries the error output; neither
            // it nor the output ever quotes an argument value (it may be a secret, see Redaction).
            StringWriter captured = new StringWriter();
            int code = FlinkSlmCli.run(new PrintWriter(new TeeWriter(System.err, captured), true), args);
            if (code != 0) {
                throw new IllegalArgumentException(FlinkSlmCli.outline(args) + " failed with exit code " + code
                        + errorSummary(captured.toString(), args));
            }
            return;
        }
        Path jar = Path.of(Launcher.class
                .getProtectionDomain()
                .getCodeSource()
                .getLocation()
                .toURI());
        Path lib = jar.getParent().resolve("lib");
        if (!Files.isDirectory(lib)) {
            System.err.println("The Flink runtime is not on the classpath and " + lib + " does not exist."
                    + " Build with 'mvn -DskipTests package' (it copies the runtime to jobs/target/lib),"
                    + " or submit the jar to a Flink cluster with 'flink run'.");
            System.exit(2);
        }
        // A child JVM with the runtime on its class path: Flink's local cluster resolves user classes
        // through the system class loader, so the runtime cannot live in a nested class loader.
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(JAVA_17_FLAGS));
        List<String> launcherOptions = ManagementFactory.getRuntimeMXBean().getInputArguments();
        command.addAll(forwardedJvmOptions(launcherOptions));
        List<String> kept = notForwarded(launcherOptions);
        if (!kept.isEmpty()) {
            System.err.println("JVM options not passed to the job's JVM (they would clash between two JVMs; give"
                    + " them in " + JOB_JAVA_OPTS + " to set them there): " + String.join(" ", kept));
        }
        String jobOptions = System.getenv(JOB_JAVA_OPTS);
        if (jobOptions != null && !jobOptions.isBlank()) {
            command.addAll(List.of(jobOptions.strip().split("\\s+")));
        }
        String log4j = System.getProperty("log4j2.configurationFile", System.getProperty("log4j.configurationFile"));
        command.add("-Dlog4j.configurationFile=" + (log4j != null ? log4j : "flink-slm-log4j2.properties"));
        command.add("-D" + FlinkSlmCli.PARENT_PID_PROPERTY + "="
                + ProcessHandle.current().pid());
        command.add("-cp");
        command.add(pathingJar(jar, lib).toString());
        command.add(CLI);
        command.addAll(List.of(args));
        ProcessBuilder childProcess = new ProcessBuilder(command).inheritIO();
        // the JVM options of these variables are among the launcher's options above, allowed or not
        childProcess.environment().keySet().removeAll(ENVIRONMENT_JVM_OPTIONS);
        Process child = childProcess.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (child.isAlive()) {
                child.destroy(); // lets the child print its summary on Ctrl-C
                try {
                    child.waitFor();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }));
        System.exit(child.waitFor());
    }

    /**
     * The launcher's own JVM options (its command line's and those of {@code JAVA_TOOL_OPTIONS}, {@code
     * JDK_JAVA_OPTIONS} and {@code _JAVA_OPTIONS}) that the child JVM takes too, so that {@code java -Xmx4g -jar
     * flink-slm.jar} sizes the JVM that runs the job: heap, stack, direct and metaspace sizes, RAM percentages,
     * the garbage collector and its tuning, out-of-memory handling, assertions and system properties ({@code
     * -Dflinkslm.cache.dir=...}, {@code -Djava.io.tmpdir=...}). Anything that would clash between two JVMs (agents,
     * debugger and JMX ports, log, dump and recording files) stays with the launcher; {@link #JOB_JAVA_OPTS} gives
     * options to the child only. The log configuration is set for the child separately.
     */
    static List<String> forwardedJvmOptions(List<String> launcherOptions) {
        return launcherOptions.stream().filter(Launcher::forwarded).toList();
    }

    /** The launcher's options that are not forwarded, other than those the child gets anyway. */
    static List<String> notForwarded(List<String> launcherOptions) {
        return launcherOptions.stream()
                .filter(o -> !forwarded(o) && !ALWAYS_SET.matcher(o).matches())
                .toList();
    }

    private static boolean forwarded(String option) {
        return FORWARDED.matcher(option).matches()
                && !NOT_FORWARDED.matcher(option).matches();
    }

    /** Environment variable with JVM options for the job's JVM only (an agent, a debugger, a JMX port). */
    static final String JOB_JAVA_OPTS = "FLINK_SLM_JOB_JAVA_OPTS";

    private static final List<String> ENVIRONMENT_JVM_OPTIONS =
            List.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS");

    private static final java.util.regex.Pattern FORWARDED =
            java.util.regex.Pattern.compile("-Xm[sxn]\\S+|-Xss\\S+|-ea|-da|-enableassertions|-disableassertions|-D.+"
                    + "|-XX:(MaxHeapSize|InitialHeapSize|MaxNewSize|NewSize|MaxDirectMemorySize|MaxMetaspaceSize"
                    + "|(Max|Min|Initial)RAMPercentage|MaxGCPauseMillis|ParallelGCThreads|ConcGCThreads"
                    + "|ActiveProcessorCount)=\\S+"
                    + "|-XX:[+-](Use\\w*GC|HeapDumpOnOutOfMemoryError|ExitOnOutOfMemoryError|CrashOnOutOfMemoryError"
                    + "|Unlock(Experimental|Diagnostic)VMOptions)");
    private static final java.util.regex.Pattern NOT_FORWARDED = java.util.regex.Pattern.compile(
            "-Dlog4j2?\\.configurationFile=.*|-Dcom\\.sun\\.management\\..*|-Djava\\.rmi\\.server\\..*|-D"
                    + java.util.regex.Pattern.quote(FlinkSlmCli.PARENT_PID_PROPERTY) + "=.*");
    /** Set for the child in any case: the module flags and the log configuration. */
    private static final java.util.regex.Pattern ALWAYS_SET =
            java.util.regex.Pattern.compile("--add-(opens|exports)[= ].*|-Dlog4j2?\\.configurationFile=.*");

    /** The error lines a command printed (not its usage help), scrubbed and cut short. */
    static String errorSummary(String errorOutput, String[] args) {
        String text = errorOutput;
        int usage = text.indexOf("Usage: ");
        if (usage >= 0) {
            text = text.substring(0, usage);
        }
        text = Redaction.scrub(text.strip(), FlinkSlmCli.expandArgumentFiles(args));
        if (text.length() > MAX_SUMMARY) {
            text = text.substring(0, MAX_SUMMARY) + "...";
        }
        return text.isEmpty() ? "" : ":\n" + text;
    }

    /** Writes to the console and to a buffer. */
    private static final class TeeWriter extends Writer {
        private final PrintStream console;
        private final StringWriter copy;

        TeeWriter(PrintStream console, StringWriter copy) {
            this.console = console;
            this.copy = copy;
        }

        @Override
        public void write(char[] buf, int off, int len) {
            console.print(new String(buf, off, len));
            copy.write(buf, off, len);
        }

        @Override
        public void flush() {
            console.flush();
        }

        @Override
        public void close() {
            flush();
        }
    }

    /**
     * A manifest-only jar whose Class-Path names the job jar and the runtime jars. ONNX Runtime's
     * native library crashes the JVM when {@code java.class.path} is longer than about 4 KB, which
     * a long list of absolute jar paths easily is.
     */
    private static Path pathingJar(Path jar, Path lib) throws java.io.IOException {
        List<Path> entries = new ArrayList<>();
        entries.add(jar);
        try (java.util.stream.Stream<Path> jars = Files.list(lib)) {
            jars.filter(p -> p.toString().endsWith(".jar")).sorted().forEach(entries::add);
        }
        StringBuilder classPath = new StringBuilder();
        for (Path entry : entries) {
            classPath.append(entry.toUri().toURL().toExternalForm()).append(' ');
        }
        java.util.jar.Manifest manifest = new java.util.jar.Manifest();
        manifest.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes()
                .put(
                        java.util.jar.Attributes.Name.CLASS_PATH,
                        classPath.toString().trim());
        Path pathing = Files.createTempFile("flink-slm-classpath-", ".jar");
        pathing.toFile().deleteOnExit();
        try (java.util.jar.JarOutputStream out =
                new java.util.jar.JarOutputStream(Files.newOutputStream(pathing), manifest)) {
            out.flush();
        }
        return pathing;
    }

    /** The module flags Flink needs on Java 17 (the jar manifest grants them only in {@code -jar} mode). */
    private static final String[] JAVA_17_FLAGS = {
        "--add-opens=java.base/java.lang=ALL-UNNAMED",
        "--add-opens=java.base/java.util=ALL-UNNAMED",
        "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
        "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
        "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
        "--add-opens=java.base/java.io=ALL-UNNAMED",
        "--add-opens=java.base/java.nio=ALL-UNNAMED",
        "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
        "--add-opens=java.base/java.net=ALL-UNNAMED",
        "--add-opens=java.base/java.text=ALL-UNNAMED",
        "--add-opens=java.base/java.time=ALL-UNNAMED",
        "--add-opens=java.sql/java.sql=ALL-UNNAMED",
        "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
        "--add-exports=java.management/sun.management=ALL-UNNAMED",
        "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
        "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED"
    };

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
        return new File(Launcher.class
                        .getProtectionDomain()
                        .getCodeSource()
                        .getLocation()
                        .getPath())
                .getName();
    }
}
