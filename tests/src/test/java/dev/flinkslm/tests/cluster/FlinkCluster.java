package dev.flinkslm.tests.cluster;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real standalone Flink session cluster: one JobManager and N TaskManagers, each a separate JVM
 * on 127.0.0.1, started from the Flink jars Maven resolved for module {@code tests} (no
 * flink-dist). The configuration is {@code docker/conf/config.yaml} (shared with the Docker and
 * Kubernetes deployments) plus the local keys this class adds: loopback addresses, free ports,
 * short heartbeats, directories under the work directory.
 *
 * <p>Usage (JUnit or a plain main):
 *
 * <pre>{@code
 * try (FlinkCluster cluster = FlinkCluster.builder(repoRoot, workDir).taskManagers(2).slotsPerTaskManager(2).start()) {
 *     FlinkRestClient rest = cluster.rest();
 *     String jarId = rest.uploadJar(jobJar);
 *     String jobId = rest.runJar(jarId, entryClass, args, null);
 *     rest.waitForJobStatus(jobId, "RUNNING", Duration.ofMinutes(1));
 *     cluster.killTaskManager(cluster.taskManagers().get(0));   // SIGKILL
 *     cluster.startTaskManager();
 * }
 * }</pre>
 *
 * <p>Every process is stopped by its PID in {@link #close()}, and by a shutdown hook if the
 * caller never gets there. Threading: start/kill/close are meant for one controlling thread;
 * {@link #rest()} may be used from any thread.
 */
public final class FlinkCluster implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(FlinkCluster.class);
    /** The log settings the images append to Flink's configuration; the test clusters use them too. */
    static final String CLUSTER_LOG_SETTINGS = "docker/conf/log4j-cluster.properties";

    private static final String LOOPBACK = "127.0.0.1";
    private static final String BASH_RESULT_PREFIX = "BASH_JAVA_UTILS_EXEC_RESULT:";

    private final Builder spec;
    private final Path confDir;
    private final Path logDir;
    private final String classpath;
    private final List<String> openFlags;
    private final int restPort;
    private final FlinkRestClient rest;
    private final List<Process> processes = new CopyOnWriteArrayList<>();
    private final List<TaskManager> taskManagers = new CopyOnWriteArrayList<>();
    private final AtomicInteger tmCounter = new AtomicInteger();
    private final Thread shutdownHook;
    private Process jobManager;

    /** A TaskManager process started by this cluster. */
    public record TaskManager(String resourceId, Process process, Path logFile) {
        public long pid() {
            return process.pid();
        }
    }

    private FlinkCluster(Builder spec) throws IOException {
        this.spec = spec;
        Files.createDirectories(spec.workDir);
        this.confDir = Files.createDirectories(spec.workDir.resolve("conf"));
        this.logDir = Files.createDirectories(spec.workDir.resolve("log"));
        this.classpath = ClusterClasspath.pathingJar(
                        ClusterClasspath.fromTestClasspath(spec.repoRoot, spec.nativeLibsOnClasspath),
                        Files.createDirectories(spec.workDir.resolve("lib")).resolve("flink-classpath.jar"))
                .toString();
        this.openFlags = jvmOpenFlags(spec.repoRoot);
        this.restPort = freePort();
        this.rest = new FlinkRestClient("http://" + LOOPBACK + ":" + restPort);
        this.shutdownHook = new Thread(this::destroyAll, "flink-cluster-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** Starts describing a cluster whose files (config, logs, checkpoints) live under {@code workDir}. */
    public static Builder builder(Path repoRoot, Path workDir) {
        return new Builder(repoRoot, workDir);
    }

    /** REST client of the JobManager. */
    public FlinkRestClient rest() {
        return rest;
    }

    /** Base URL of the REST API / web UI, e.g. {@code http://127.0.0.1:41234}. */
    public String restUrl() {
        return rest.baseUrl();
    }

    /** Directory that holds checkpoints ({@code execution.checkpointing.dir}). */
    public Path checkpointDir() {
        return spec.workDir.resolve("checkpoints");
    }

    /** Directory that holds savepoints ({@code execution.checkpointing.savepoint-dir}). */
    public Path savepointDir() {
        return spec.workDir.resolve("savepoints");
    }

    /** TaskManagers started by this cluster that have not been killed. */
    public List<TaskManager> taskManagers() {
        return List.copyOf(taskManagers);
    }

    /** The JobManager's log file. */
    public Path jobManagerLog() {
        return logDir.resolve("jobmanager.log");
    }

    /** Full text of a TaskManager's log (also works after it was killed). */
    public String taskManagerLog(TaskManager tm) {
        try {
            return Files.readString(tm.logFile(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Log files of all TaskManagers ever started, killed ones included. */
    public List<Path> allTaskManagerLogs() {
        try (var files = Files.list(logDir)) {
            return files.filter(p -> p.getFileName().toString().matches("taskmanager-\\d+\\.log"))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private FlinkCluster startAll() throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        writeConfig();
        jobManager = launch(
                "jobmanager",
                "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
                "GET_JM_RESOURCE_PARAMS",
                List.of("--executionMode", "cluster"));
        rest.waitForOverview(o -> true, spec.readyTimeout, jobManager);
        for (int i = 0; i < spec.taskManagers; i++) {
            launchTaskManager();
        }
        awaitTaskManagers(spec.taskManagers);
        LOG.info(
                "Flink cluster up in {} ms: {} TaskManagers x {} slots, REST {}",
                (System.nanoTime() - t0) / 1_000_000,
                spec.taskManagers,
                spec.slotsPerTaskManager,
                restUrl());
        return this;
    }

    /** Starts one more TaskManager and waits until the JobManager has registered it. */
    public TaskManager startTaskManager() throws IOException, InterruptedException {
        TaskManager tm = launchTaskManager();
        awaitTaskManagers(taskManagers.size());
        return tm;
    }

    /**
     * Kills a TaskManager with SIGKILL (no shutdown hooks, no graceful deregistration, like a lost
     * machine) and waits until the JobManager has noticed it is gone.
     */
    public void killTaskManager(TaskManager tm) throws InterruptedException {
        LOG.info("SIGKILL TaskManager {} (pid {})", tm.resourceId(), tm.pid());
        tm.process().destroyForcibly();
        if (!tm.process().waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("TaskManager pid " + tm.pid() + " survived SIGKILL for 30 s");
        }
        taskManagers.remove(tm);
        rest.waitForTaskManagerGone(tm.resourceId(), spec.readyTimeout);
    }

    private TaskManager launchTaskManager() throws IOException {
        String id = "tm-" + tmCounter.incrementAndGet();
        Process p = launch(
                "taskmanager-" + tmCounter.get(),
                "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
                "GET_TM_RESOURCE_PARAMS",
                List.of("-D", "taskmanager.resource-id=" + id));
        TaskManager tm = new TaskManager(id, p, logDir.resolve("taskmanager-" + tmCounter.get() + ".log"));
        taskManagers.add(tm);
        return tm;
    }

    private void awaitTaskManagers(int count) throws InterruptedException {
        int slots = count * spec.slotsPerTaskManager;
        rest.waitForOverview(
                o -> {
                    replaceExitedTaskManagers();
                    return o.path("taskmanagers").asInt() == count
                            && o.path("slots-total").asInt() == slots;
                },
                spec.readyTimeout,
                jobManager);
    }

    /**
     * A TaskManager that exited on its own (for example Flink's fatal-error handler during a
     * failover) is replaced, as a process supervisor (Kubernetes, systemd) would do; the scenario's
     * exactly-once checks are unaffected, and the exit is logged.
     */
    private void replaceExitedTaskManagers() {
        for (TaskManager tm : List.copyOf(taskManagers)) {
            if (!tm.process().isAlive()) {
                LOG.warn(
                        "TaskManager {} exited with code {}; starting a replacement (see {})",
                        tm.resourceId(),
                        tm.process().exitValue(),
                        tm.logFile());
                taskManagers.remove(tm);
                try {
                    launchTaskManager();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        }
    }

    private Process launch(String name, String mainClass, String resourceCommand, List<String> extraArgs)
            throws IOException {
        Path logFile = logDir.resolve(name + ".log");
        List<String> cmd = new ArrayList<>();
        cmd.add(javaBinary());
        cmd.addAll(resourceParams(resourceCommand).jvmArgs);
        cmd.addAll(openFlags);
        // A native crash (ORT, tokenizers, RocksDB) leaves its report next to the logs.
        cmd.add("-XX:ErrorFile=" + logDir.resolve("hs_err_" + name + "_%p.log"));
        cmd.add("-Dlog.file=" + logFile);
        cmd.add("-Dlog4j.configurationFile=file:" + confDir.resolve("log4j.properties"));
        cmd.add("-cp");
        cmd.add(classpath);
        cmd.add(mainClass);
        cmd.add("--configDir");
        cmd.add(confDir.toString());
        cmd.addAll(resourceParams(resourceCommand).dynamicProperties);
        cmd.addAll(extraArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(logDir.resolve(name + ".out").toFile());
        pb.environment().put("FLINK_CONF_DIR", confDir.toString());
        pb.environment().put("FLINK_LOG_DIR", logDir.toString());
        Process p = pb.start();
        processes.add(p);
        LOG.info("Started {} pid {} (log {})", name, p.pid(), logFile);
        // 137 is our own SIGKILL; anything else unexpected (134 abort, 139 segfault) needs a look at the logs.
        p.onExit().thenAccept(done -> LOG.info("{} pid {} exited with code {}", name, done.pid(), done.exitValue()));
        return p;
    }

    private record ResourceParams(List<String> jvmArgs, List<String> dynamicProperties) {}

    private final Map<String, ResourceParams> resourceParamsCache = new LinkedHashMap<>();

    /** Asks BashJavaUtils for the memory flags, exactly what Flink's start scripts do. */
    private ResourceParams resourceParams(String command) throws IOException {
        ResourceParams cached = resourceParamsCache.get(command);
        if (cached != null) {
            return cached;
        }
        List<String> cmd = new ArrayList<>(List.of(
                javaBinary(),
                "-cp",
                classpath,
                "-Dlog4j.configurationFile=file:" + confDir.resolve("log4j-quiet.properties"),
                "org.apache.flink.runtime.util.bash.BashJavaUtils",
                command,
                "--configDir",
                confDir.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("BashJavaUtils " + command + " failed:\n" + out);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while running BashJavaUtils", e);
        }
        List<String> results = out.lines()
                .filter(l -> l.startsWith(BASH_RESULT_PREFIX))
                .map(l -> l.substring(BASH_RESULT_PREFIX.length()).strip())
                .toList();
        if (results.isEmpty()) {
            throw new IllegalStateException("BashJavaUtils " + command + " printed no result:\n" + out);
        }
        List<String> jvm = Arrays.stream(results.get(0).split("\\s+"))
                .filter(s -> !s.isEmpty())
                .toList();
        List<String> dyn = results.size() > 1
                ? Arrays.stream(results.get(1).split("\\s+"))
                        .filter(s -> !s.isEmpty())
                        .toList()
                : List.of();
        ResourceParams params = new ResourceParams(jvm, dyn);
        resourceParamsCache.put(command, params);
        return params;
    }

    private void writeConfig() throws IOException {
        Map<String, String> conf =
                new LinkedHashMap<>(FlinkConfigFile.read(spec.repoRoot.resolve("docker/conf/config.yaml")));
        conf.put("jobmanager.rpc.address", LOOPBACK);
        conf.put("jobmanager.bind-host", LOOPBACK);
        conf.put("jobmanager.rpc.port", String.valueOf(freePort()));
        conf.put("taskmanager.host", LOOPBACK);
        conf.put("taskmanager.bind-host", LOOPBACK);
        conf.put("rest.address", LOOPBACK);
        conf.put("rest.bind-address", LOOPBACK);
        conf.put("rest.port", String.valueOf(restPort));
        conf.put("jobmanager.memory.process.size", "1024m");
        conf.put("taskmanager.memory.process.size", spec.taskManagerProcessSize);
        conf.put("taskmanager.numberOfTaskSlots", String.valueOf(spec.slotsPerTaskManager));
        // A SIGKILLed TaskManager must be noticed in seconds, not the default 50 s.
        conf.put("heartbeat.interval", "500");
        // 10 s, not 5: on a loaded 2-core machine a 5 s timeout also fired for live TaskManagers.
        conf.put("heartbeat.timeout", "10000");
        conf.put("restart-strategy.exponential-delay.initial-backoff", "200 ms");
        conf.put("restart-strategy.exponential-delay.max-backoff", "2 s");
        conf.put("execution.checkpointing.interval", "1 s");
        conf.put(
                "execution.checkpointing.dir",
                spec.workDir.resolve("checkpoints").toUri().toString());
        conf.put(
                "execution.checkpointing.savepoint-dir",
                spec.workDir.resolve("savepoints").toUri().toString());
        conf.put(
                "io.tmp.dirs",
                Files.createDirectories(spec.workDir.resolve("tmp")).toString());
        conf.put(
                "web.upload.dir",
                Files.createDirectories(spec.workDir.resolve("uploads")).toString());
        conf.put(
                "web.tmpdir",
                Files.createDirectories(spec.workDir.resolve("web")).toString());
        conf.putAll(spec.overrides);
        FlinkConfigFile.write(confDir.resolve("config.yaml"), conf);

        Files.writeString(
                confDir.resolve("log4j.properties"),
                String.join(
                        "\n",
                        "monitorInterval = 0",
                        "rootLogger.level = INFO",
                        "rootLogger.appenderRef.file.ref = MainAppender",
                        "appender.main.name = MainAppender",
                        "appender.main.type = File",
                        "appender.main.append = true",
                        "appender.main.fileName = ${sys:log.file}",
                        "appender.main.layout.type = PatternLayout",
                        "appender.main.layout.pattern = %d{HH:mm:ss,SSS} %-5p %-50c{1.} [%t] - %m%n",
                        // what the container images append to Flink's log configuration
                        Files.readString(spec.repoRoot.resolve(CLUSTER_LOG_SETTINGS))));
        Files.writeString(confDir.resolve("log4j-quiet.properties"), "rootLogger.level = OFF\n");
    }

    /** The --add-opens/--add-exports list of the root pom's {@code flink.jvm.opens} property. */
    static List<String> jvmOpenFlags(Path repoRoot) {
        try {
            String pom = Files.readString(repoRoot.resolve("pom.xml"));
            Matcher m = Pattern.compile("<flink\\.jvm\\.opens>([^<]+)</flink\\.jvm\\.opens>")
                    .matcher(pom);
            if (!m.find()) {
                throw new IllegalStateException("Root pom.xml has no <flink.jvm.opens> property");
            }
            return Arrays.stream(m.group(1).trim().split("\\s+")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** A port that was free a moment ago on the loopback interface. */
    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK))) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Stops every process this cluster started, by PID: TaskManagers first, then the JobManager. */
    @Override
    public void close() {
        destroyAll();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException alreadyShuttingDown) {
            // the hook is running or ran; nothing left to do
        }
    }

    private void destroyAll() {
        List<Process> reversed = new ArrayList<>(processes);
        java.util.Collections.reverse(reversed);
        for (Process p : reversed) {
            if (p.isAlive()) {
                // SIGTERM lets Flink release its blob and temp directories; SIGKILL if it hangs.
                p.destroy();
            }
        }
        for (Process p : reversed) {
            try {
                if (!p.waitFor(15, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        processes.clear();
    }

    /**
     * Describes a cluster; {@link #start()} launches it. Not thread-safe.
     */
    public static final class Builder {
        private final Path repoRoot;
        private final Path workDir;
        private int taskManagers = 1;
        private int slotsPerTaskManager = 2;
        private String taskManagerProcessSize = "1280m";
        private boolean nativeLibsOnClasspath = true;
        private Duration readyTimeout = Duration.ofSeconds(90);
        private final Map<String, String> overrides = new LinkedHashMap<>();

        private Builder(Path repoRoot, Path workDir) {
            this.repoRoot = repoRoot.toAbsolutePath().normalize();
            this.workDir = workDir.toAbsolutePath().normalize();
        }

        public Builder taskManagers(int n) {
            this.taskManagers = n;
            return this;
        }

        public Builder slotsPerTaskManager(int n) {
            this.slotsPerTaskManager = n;
            return this;
        }

        public Builder taskManagerProcessSize(String size) {
            this.taskManagerProcessSize = size;
            return this;
        }

        /** Whether ORT/DJL jars are on the cluster classpath (default true, the production layout). */
        public Builder nativeLibsOnClasspath(boolean onClasspath) {
            this.nativeLibsOnClasspath = onClasspath;
            return this;
        }

        /** How long to wait for the JobManager REST API and for TaskManager registration. */
        public Builder readyTimeout(Duration timeout) {
            this.readyTimeout = timeout;
            return this;
        }

        /** Sets a Flink configuration key, after the shared file and the harness defaults. */
        public Builder set(String key, String value) {
            overrides.put(key, value);
            return this;
        }

        /** Starts the JobManager and the TaskManagers and waits until all slots are registered. */
        public FlinkCluster start() throws IOException, InterruptedException {
            if (taskManagers < 1 || slotsPerTaskManager < 1) {
                throw new IllegalArgumentException("Need at least one TaskManager with one slot");
            }
            if (!Files.isRegularFile(repoRoot.resolve("docker/conf/config.yaml"))) {
                throw new IllegalArgumentException(
                        repoRoot + " is not the flink-slm repository root (no docker/conf/config.yaml)");
            }
            FlinkCluster cluster = new FlinkCluster(this);
            try {
                return cluster.startAll();
            } catch (IOException | InterruptedException | RuntimeException e) {
                LOG.error("Cluster failed to start; logs are in {}", cluster.logDir);
                cluster.close();
                throw e;
            }
        }
    }
}
