package dev.flinkslm.tests.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Static checks that the deployment files in docker/ agree with the configuration the real-cluster
 * harness runs (docker/conf/config.yaml, docker/conf/native-libs.txt) and with the build (root pom
 * versions, jar path, main class). Nothing here needs a container engine.
 */
class DeploymentConsistencyTest {

    private static final Path ROOT = FlinkConfigFile.repoRoot();
    private static final Map<String, String> SHARED = FlinkConfigFile.read(ROOT.resolve("docker/conf/config.yaml"));

    @Test
    void sharedConfigLoadsNativeLibrariesParentFirst() {
        assertThat(SHARED).containsEntry("classloader.parent-first-patterns.additional", "ai.onnxruntime.;ai.djl.");
        assertThat(SHARED)
                .containsEntry("state.backend.type", "rocksdb")
                .containsEntry("execution.checkpointing.mode", "EXACTLY_ONCE")
                .containsEntry("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION");
        // Every native-library jar must be matched by a parent-first pattern, or the job jar's copy wins.
        List<String> patterns = Arrays.asList(
                SHARED.get("classloader.parent-first-patterns.additional").split(";"));
        assertThat(ClusterClasspath.NativeLib.read(ROOT))
                .extracting(ClusterClasspath.NativeLib::groupId)
                .filteredOn(g -> !g.startsWith("com.google") && !g.startsWith("net.java"))
                .allSatisfy(g -> assertThat(patterns)
                        .anySatisfy(p -> assertThat(javaPackageOf(g)).startsWith(p.replaceAll("\\.$", ""))));
    }

    @Test
    void nativeLibsMatchTheBuild() throws IOException {
        String pom = Files.readString(ROOT.resolve("pom.xml"));
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> entries = Arrays.asList(classpath.split(File.pathSeparator));
        for (ClusterClasspath.NativeLib lib : ClusterClasspath.NativeLib.read(ROOT)) {
            assertThat(entries)
                    .as("%s resolved by Maven at the listed version", lib)
                    .anySatisfy(e -> assertThat(e).endsWith(File.separator + lib.jarName()));
        }
        assertThat(ClusterClasspath.NativeLib.read(ROOT))
                .extracting(ClusterClasspath.NativeLib::toString)
                .anySatisfy(
                        l -> assertThat(l).contains("onnxruntime, version=" + pomProperty(pom, "onnxruntime.version")))
                .anySatisfy(l -> assertThat(l).contains("tokenizers, version=" + pomProperty(pom, "djl.version")));
    }

    @Test
    void kubernetesDeploymentsCarryTheSharedConfigAndJarLayout() throws IOException {
        for (String file : List.of("docker/k8s/flink-deployment.yaml", "docker/k8s/flink-deployment-gpu.yaml")) {
            Map<String, Object> doc = yaml(ROOT.resolve(file));
            assertThat(doc).containsEntry("kind", "FlinkDeployment");
            Map<String, Object> spec = map(doc.get("spec"));
            assertThat(spec).as(file).containsEntry("flinkVersion", "v2_2");
            Map<String, Object> conf = map(spec.get("flinkConfiguration"));
            SHARED.forEach((k, v) ->
                    assertThat(String.valueOf(conf.get(k))).as(file + " " + k).isEqualTo(v));
            assertThat(conf)
                    .containsEntry(
                            "metrics.reporter.prom.factory.class",
                            "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
            Map<String, Object> job = map(spec.get("job"));
            assertThat(job)
                    .containsEntry("jarURI", "local://" + JobJars.IMAGE_JAR_PATH)
                    .containsEntry("entryClass", JobJars.LAUNCHER);
        }
        String gpu = Files.readString(ROOT.resolve("docker/k8s/flink-deployment-gpu.yaml"));
        Map<String, Object> tmPod = map(map(map(yaml(ROOT.resolve("docker/k8s/flink-deployment-gpu.yaml"))
                                .get("spec"))
                        .get("taskManager"))
                .get("podTemplate"));
        assertThat(gpu).contains("image: flink-slm:gpu");
        assertThat(String.valueOf(tmPod))
                .contains("nvidia.com/gpu=1")
                .contains("tolerations")
                .contains("nodeSelector");
    }

    @Test
    void imagesUseTheSameLayoutAndVersions() throws IOException {
        String pom = Files.readString(ROOT.resolve("pom.xml"));
        String flinkVersion = pomProperty(pom, "flink.version");
        for (String file : List.of("docker/Dockerfile", "docker/Dockerfile.gpu")) {
            String df = Files.readString(ROOT.resolve(file));
            assertThat(df)
                    .as(file)
                    .contains("ARG FLINK_IMAGE=flink:" + flinkVersion + "-scala_2.12-java17")
                    .contains("COPY docker/conf/native-libs.txt")
                    .contains("/opt/flink/lib/")
                    .contains("COPY docker/conf/config.yaml")
                    .containsPattern("COPY .*" + Pattern.quote(JobJars.DEPLOYABLE_PATH) + " "
                            + Pattern.quote(JobJars.IMAGE_JAR_PATH));
        }
        String gpu = Files.readString(ROOT.resolve("docker/Dockerfile.gpu"));
        assertThat(gpu).contains(":onnxruntime_gpu:").containsPattern("nvidia/cuda:12[.0-9]*-cudnn-runtime");
    }

    /**
     * The log settings the images append to Flink's configuration are those of embedded runs, and both images
     * append them to the file and the console configuration.
     */
    @Test
    void clusterLogSettingsAreTheEmbeddedOnes() throws IOException {
        List<String> cluster = Files.readAllLines(ROOT.resolve(FlinkCluster.CLUSTER_LOG_SETTINGS)).stream()
                .filter(l -> !l.isBlank() && !l.startsWith("#"))
                .toList();
        assertThat(cluster).anyMatch(l -> l.startsWith("logger.metricGroup.filter."));
        assertThat(Files.readAllLines(ROOT.resolve("jobs/cli/src/main/resources/flink-slm-log4j2.properties")))
                .containsAll(cluster);
        for (String file : List.of("docker/Dockerfile", "docker/Dockerfile.gpu")) {
            assertThat(Files.readString(ROOT.resolve(file)))
                    .as(file)
                    .contains("COPY " + FlinkCluster.CLUSTER_LOG_SETTINGS + " /tmp/log4j-cluster.properties")
                    .contains("cat /tmp/log4j-cluster.properties >> /opt/flink/conf/log4j-console.properties")
                    .contains("cat /tmp/log4j-cluster.properties >> /opt/flink/conf/log4j.properties");
        }
    }

    @Test
    void composeRunsKafkaFlinkSubmissionAndPrometheus() throws IOException {
        Map<String, Object> compose = yaml(ROOT.resolve("docker/docker-compose.yml"));
        Map<String, Object> services = map(compose.get("services"));
        assertThat(services).containsKeys("kafka", "kafka-init", "jobmanager", "taskmanager", "submit");
        assertThat(map(services.get("kafka")))
                .containsEntry(
                        "image",
                        "apache/kafka:" + pomProperty(Files.readString(ROOT.resolve("pom.xml")), "kafka.version"));
        Map<String, Object> flink = map(compose.get("x-flink"));
        assertThat(map(flink.get("build"))).containsEntry("dockerfile", "docker/Dockerfile");
        String props = String.valueOf(compose.get("x-flink-properties"));
        assertThat(props)
                .contains(
                        "metrics.reporter.prom.factory.class: org.apache.flink.metrics.prometheus.PrometheusReporterFactory")
                .contains("metrics.reporter.prom.port: 9249");
        // Shared keys come from the image (Dockerfile merges docker/conf/config.yaml); compose must not redefine them.
        SHARED.keySet().forEach(k -> assertThat(props).as(k).doesNotContain(k + ":"));
        String submit = String.valueOf(map(services.get("submit")).get("command"));
        assertThat(submit)
                .contains(JobJars.IMAGE_JAR_PATH)
                .contains("-c " + JobJars.LAUNCHER)
                .contains("screen");
        // Host ports only on loopback.
        for (Object svc : services.values()) {
            Object ports = map(svc).get("ports");
            if (ports != null) {
                assertThat((List<?>) ports)
                        .allSatisfy(p -> assertThat(String.valueOf(p)).startsWith("127.0.0.1:"));
            }
        }
    }

    @Test
    void harnessWritesTheSharedConfigItReads() throws IOException {
        Path tmp = Files.createTempFile("config", ".yaml");
        try {
            FlinkConfigFile.write(tmp, SHARED);
            assertThat(FlinkConfigFile.read(tmp)).isEqualTo(SHARED);
        } finally {
            Files.deleteIfExists(tmp);
        }
        assertThat(FlinkCluster.jvmOpenFlags(ROOT))
                .contains("--add-opens=java.base/java.util=ALL-UNNAMED")
                .hasSizeGreaterThan(10);
    }

    private static String javaPackageOf(String groupId) {
        // DJL's Maven groupIds (ai.djl, ai.djl.huggingface) are its package prefixes; ORT's is not.
        return groupId.equals("com.microsoft.onnxruntime") ? "ai.onnxruntime" : groupId;
    }

    private static String pomProperty(String pom, String name) {
        Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">([^<]+)</").matcher(pom);
        assertThat(m.find()).as("root pom property " + name).isTrue();
        return m.group(1).trim();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        assertThat(o).isInstanceOf(Map.class);
        return (Map<String, Object>) o;
    }

    private static Map<String, Object> yaml(Path file) throws IOException {
        List<Object> docs = new ArrayList<>();
        new Load(LoadSettings.builder().build())
                .loadAllFromString(Files.readString(file))
                .forEach(docs::add);
        assertThat(docs).as(file + " holds one YAML document").hasSize(1);
        return map(docs.get(0));
    }
}
