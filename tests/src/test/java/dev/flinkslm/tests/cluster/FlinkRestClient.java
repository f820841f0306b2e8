package dev.flinkslm.tests.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * Minimal client of Flink's REST API for driving a session cluster: upload and run jars, job
 * status, cancel, stop-with-savepoint, checkpoints and TaskManager lists. Waits poll the API with
 * a deadline and fail with the last observed state.
 *
 * <p>Usage:
 *
 * <pre>{@code
 * FlinkRestClient rest = new FlinkRestClient("http://127.0.0.1:8081");
 * String jarId = rest.uploadJar(Path.of("jobs/target/flink-slm.jar"));
 * String jobId = rest.runJar(jarId, "dev.flinkslm.jobs.Launcher", List.of("screen", "--help"), null);
 * String savepoint = rest.stopWithSavepoint(jobId, null, Duration.ofMinutes(1));
 * }</pre>
 *
 * <p>Thread-safe (java.net.http.HttpClient is).
 */
public final class FlinkRestClient {

    private static final Logger LOG = LoggerFactory.getLogger(FlinkRestClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration POLL = Duration.ofMillis(250);

    private final String baseUrl;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public FlinkRestClient(String baseUrl) {
        this.baseUrl = baseUrl;
    }

    public String baseUrl() {
        return baseUrl;
    }

    /** GET a REST path (e.g. {@code /overview}) as JSON. */
    public JsonNode get(String path) {
        return send(HttpRequest.newBuilder(URI.create(baseUrl + path)).GET(), 200);
    }

    /** Cluster overview: {@code taskmanagers}, {@code slots-total}, {@code slots-available}, job counts. */
    public JsonNode overview() {
        return get("/overview");
    }

    /** Resource ids of the TaskManagers the JobManager currently knows. */
    public List<String> taskManagerIds() {
        List<String> ids = new ArrayList<>();
        get("/taskmanagers")
                .path("taskmanagers")
                .forEach(tm -> ids.add(tm.path("id").asText()));
        return ids;
    }

    /** Uploads a job jar; returns the jar id to pass to {@link #runJar}. */
    public String uploadJar(Path jar) {
        String boundary = "----flinkslm" + UUID.randomUUID();
        String head = "--" + boundary + "\r\n"
                + "Content-Disposition: form-data; name=\"jarfile\"; filename=\"" + jar.getFileName() + "\"\r\n"
                + "Content-Type: application/x-java-archive\r\n\r\n";
        String tail = "\r\n--" + boundary + "--\r\n";
        try {
            HttpRequest.BodyPublisher body = HttpRequest.BodyPublishers.concat(
                    HttpRequest.BodyPublishers.ofString(head, StandardCharsets.UTF_8),
                    HttpRequest.BodyPublishers.ofFile(jar),
                    HttpRequest.BodyPublishers.ofString(tail, StandardCharsets.UTF_8));
            long t0 = System.nanoTime();
            JsonNode r = send(
                    HttpRequest.newBuilder(URI.create(baseUrl + "/jars/upload"))
                            .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                            .POST(body),
                    200);
            String file = r.path("filename").asText();
            String jarId = Path.of(file).getFileName().toString();
            LOG.info("Uploaded {} as {} in {} ms", jar.getFileName(), jarId, (System.nanoTime() - t0) / 1_000_000);
            return jarId;
        } catch (FileNotFoundException e) {
            throw new UncheckedIOException("Job jar not found: " + jar, e);
        }
    }

    /**
     * Runs an uploaded jar's main class; returns the job id.
     *
     * @param savepointPath restore from this savepoint, or {@code null} for a fresh start
     */
    public String runJar(String jarId, String entryClass, List<String> programArgs, String savepointPath) {
        ObjectNode req = JSON.createObjectNode();
        req.put("entryClass", entryClass);
        req.set("programArgsList", JSON.valueToTree(programArgs));
        if (savepointPath != null) {
            req.put("savepointPath", savepointPath);
            req.put("allowNonRestoredState", false);
        }
        JsonNode r = send(
                HttpRequest.newBuilder(URI.create(baseUrl + "/jars/" + jarId + "/run"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(req.toString())),
                200);
        String jobId = r.path("jobid").asText();
        LOG.info("Submitted {} from jar {} as job {} (savepoint {})", entryClass, jarId, jobId, savepointPath);
        return jobId;
    }

    /** Job state name: CREATED, RUNNING, FAILING, FAILED, CANCELED, FINISHED, RESTARTING, ... */
    public String jobStatus(String jobId) {
        return get("/jobs/" + jobId).path("state").asText();
    }

    /** Number of completed checkpoints of a job. */
    public long completedCheckpoints(String jobId) {
        return get("/jobs/" + jobId + "/checkpoints")
                .path("counts")
                .path("completed")
                .asLong();
    }

    /**
     * Path of the job's latest completed checkpoint (retained after cancel with
     * {@code execution.checkpointing.externalized-checkpoint-retention: RETAIN_ON_CANCELLATION}),
     * or {@code null} if none completed.
     */
    public String latestCheckpointPath(String jobId) {
        JsonNode latest = get("/jobs/" + jobId + "/checkpoints").path("latest").path("completed");
        return latest.isMissingNode() || latest.isNull()
                ? null
                : latest.path("external_path").asText(null);
    }

    /** The checkpoint or savepoint path the job was restored from, or {@code null} for a fresh start. */
    public String restoredFrom(String jobId) {
        JsonNode restored =
                get("/jobs/" + jobId + "/checkpoints").path("latest").path("restored");
        return restored.isMissingNode() || restored.isNull()
                ? null
                : restored.path("external_path").asText(null);
    }

    /** Number of failures recorded in the job's exception history (0 for a job that never failed). */
    public int exceptionCount(String jobId) {
        return get("/jobs/" + jobId + "/exceptions")
                .path("exceptionHistory")
                .path("entries")
                .size();
    }

    /** The most recent root exception of a job, or an empty string. */
    public String rootException(String jobId) {
        JsonNode entries =
                get("/jobs/" + jobId + "/exceptions").path("exceptionHistory").path("entries");
        return entries.isEmpty() ? "" : entries.get(0).path("stacktrace").asText();
    }

    /** Waits until the job is RUNNING and every one of its tasks is RUNNING (tasks deployed). */
    public void waitForAllTasksRunning(String jobId, Duration timeout) throws InterruptedException {
        waitUntil("all tasks of job " + jobId + " RUNNING", timeout, () -> {
            JsonNode job = get("/jobs/" + jobId);
            failIfTerminal(jobId, job.path("state").asText(), "RUNNING");
            if (!"RUNNING".equals(job.path("state").asText())) {
                return false;
            }
            for (JsonNode v : job.path("vertices")) {
                if (!"RUNNING".equals(v.path("status").asText())) {
                    return false;
                }
            }
            return true;
        });
    }

    /** Waits for a job state; fails early if the job reaches another terminal state. */
    public void waitForJobStatus(String jobId, String state, Duration timeout) throws InterruptedException {
        waitUntil("job " + jobId + " " + state, timeout, () -> {
            String s = jobStatus(jobId);
            failIfTerminal(jobId, s, state);
            return s.equals(state);
        });
    }

    /** Waits until the job has at least {@code count} completed checkpoints. */
    public void waitForCompletedCheckpoints(String jobId, long count, Duration timeout) throws InterruptedException {
        waitUntil(count + " completed checkpoints of job " + jobId, timeout, () -> {
            failIfTerminal(jobId, jobStatus(jobId), "RUNNING");
            return completedCheckpoints(jobId) >= count;
        });
    }

    private void failIfTerminal(String jobId, String state, String wanted) {
        if (!state.equals(wanted) && (state.equals("FAILED") || state.equals("CANCELED") || state.equals("FINISHED"))) {
            throw new IllegalStateException("Job " + jobId + " is " + state + " while waiting for " + wanted
                    + "; root exception: " + rootException(jobId));
        }
    }

    /** Cancels a job and waits until it is CANCELED. */
    public void cancel(String jobId, Duration timeout) throws InterruptedException {
        send(
                HttpRequest.newBuilder(URI.create(baseUrl + "/jobs/" + jobId + "?mode=cancel"))
                        .method("PATCH", HttpRequest.BodyPublishers.noBody()),
                202);
        waitForJobStatus(jobId, "CANCELED", timeout);
    }

    /**
     * Stops a job with a savepoint (no drain) and returns the savepoint's path.
     *
     * @param targetDirectory where to write it, or {@code null} for {@code execution.checkpointing.savepoint-dir}
     */
    public String stopWithSavepoint(String jobId, String targetDirectory, Duration timeout)
            throws InterruptedException {
        ObjectNode req = JSON.createObjectNode();
        req.put("drain", false);
        if (targetDirectory != null) {
            req.put("targetDirectory", targetDirectory);
        }
        JsonNode trigger = send(
                HttpRequest.newBuilder(URI.create(baseUrl + "/jobs/" + jobId + "/stop"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(req.toString())),
                202);
        String triggerId = trigger.path("request-id").asText();
        String[] location = new String[1];
        waitUntil("savepoint of job " + jobId, timeout, () -> {
            JsonNode r = get("/jobs/" + jobId + "/savepoints/" + triggerId);
            if (!"COMPLETED".equals(r.path("status").path("id").asText())) {
                return false;
            }
            JsonNode op = r.path("operation");
            if (op.has("failure-cause")) {
                throw new IllegalStateException("Stop-with-savepoint of job " + jobId + " failed: "
                        + op.path("failure-cause").path("stack-trace").asText());
            }
            location[0] = op.path("location").asText();
            return true;
        });
        waitForJobStatus(jobId, "FINISHED", timeout);
        LOG.info("Job {} stopped with savepoint {}", jobId, location[0]);
        return location[0];
    }

    void waitForOverview(Predicate<JsonNode> condition, Duration timeout, Process jobManager)
            throws InterruptedException {
        JsonNode[] last = new JsonNode[1];
        waitUntil(
                "cluster overview condition, last overview:",
                timeout,
                () -> {
                    if (!jobManager.isAlive()) {
                        throw new IllegalStateException("JobManager exited with code " + jobManager.exitValue());
                    }
                    try {
                        last[0] = overview();
                        return condition.test(last[0]);
                    } catch (UncheckedIOException notUpYet) {
                        return false;
                    } catch (UnexpectedStatusException e) {
                        if (e.status() == 503) {
                            return false; // REST is up, leader election still running
                        }
                        throw e;
                    }
                },
                () -> String.valueOf(last[0]));
    }

    void waitForTaskManagerGone(String resourceId, Duration timeout) throws InterruptedException {
        waitUntil(
                "JobManager to drop TaskManager " + resourceId,
                timeout,
                () -> !taskManagerIds().contains(resourceId));
    }

    /** Polls {@code condition} every 250 ms until it holds or {@code timeout} passes. */
    public static void waitUntil(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        waitUntil(what, timeout, condition, () -> "");
    }

    private static void waitUntil(
            String what, Duration timeout, BooleanSupplier condition, java.util.function.Supplier<String> lastState)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "Timed out after " + timeout.toSeconds() + " s waiting for " + what + " " + lastState.get());
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    /** A REST call answered with another HTTP status than expected. */
    public static final class UnexpectedStatusException extends IllegalStateException {
        private final int status;

        UnexpectedStatusException(int status, String message) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    private JsonNode send(HttpRequest.Builder request, int expectedStatus) {
        try {
            // Generous: a jar upload or a job submission (JobGraph built on the JobManager) can take a while on 2
            // cores.
            HttpResponse<String> r =
                    http.send(request.timeout(Duration.ofMinutes(5)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != expectedStatus) {
                throw new UnexpectedStatusException(
                        r.statusCode(),
                        r.request().method() + " " + r.uri() + " returned " + r.statusCode() + ": " + r.body());
            }
            return r.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted during REST call", e);
        }
    }
}
