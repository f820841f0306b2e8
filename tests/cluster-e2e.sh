#!/usr/bin/env bash
# Real-cluster end-to-end scenario (dev.flinkslm.tests.cluster.ClusterScenario): a Kafka broker and
# a standalone Flink session cluster (JobManager + TaskManager JVMs on 127.0.0.1), exactly-once
# across a SIGKILLed TaskManager, cancel + resubmit, stop-with-savepoint + restore, model loads per
# TaskManager. Prints, as its LAST line:
#   cluster_e2e lost=<n> duplicated=<n> resubmit=<ok|failed> savepoint=<ok|failed>
# Exit code 0 only if every check passed. Usage: tests/cluster-e2e.sh [workDir] [eventsPerPhase]
# Detailed log: tests/target/cluster-e2e.log; process logs: <workDir>/flink/log, <workDir>/kafka.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p tests/target
build_log=tests/target/cluster-e2e-build.log
run_log=tests/target/cluster-e2e.log
fail() { echo "$1"; echo "cluster_e2e lost=-1 duplicated=-1 resubmit=failed savepoint=failed"; exit 1; }

# Builds the deployable jar (jobs/target/flink-slm.jar) and the test classes, and writes the
# tests module's resolved classpath (Flink, Kafka broker, ORT/DJL jars) for the java command below.
if ! mvn -B -q -pl tests -am package dependency:build-classpath -DskipTests \
    -Dmdep.outputFile=target/e2e.classpath -Dmdep.includeScope=test >"$build_log" 2>&1; then
  tail -40 "$build_log"
  fail "build failed, see $build_log"
fi

opens=$(sed -n 's:.*<flink.jvm.opens>\(.*\)</flink.jvm.opens>.*:\1:p' pom.xml)
out=$(mktemp)
# shellcheck disable=SC2086
java -Xmx1g $opens -cp "tests/target/test-classes:$(cat tests/target/e2e.classpath)" \
  dev.flinkslm.tests.cluster.ClusterScenario "$@" >"$out" 2>"$run_log"
rc=$?
if [ $rc -ne 0 ]; then
  echo "--- last lines of $run_log ---"
  grep -E 'ERROR|Exception|Timed out' "$run_log" | tail -15
fi
cat "$out"
rm -f "$out"
exit $rc
