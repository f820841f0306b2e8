/**
 * The {@code flink-slm} command line: {@link Launcher}, the main class of the deployable jar, which runs the
 * command line directly when Flink is on the class path and otherwise in a child JVM that adds the Flink jars from
 * the {@code lib/} directory next to the jar, so that jobs run on an embedded cluster; {@link FlinkSlmCli}, the
 * picocli root command; and its subcommands {@code model} (inspect, validate, eval and build bundles), {@code
 * screen} (the screening job) and {@code bench} (from the bench module). Part of the {@code flink-slm-cli}
 * artifact, which depends on the screening and bench modules and on picocli, with Flink and Log4j provided, and
 * which builds the shaded jar {@code jobs/target/flink-slm.jar} (with the Flink runtime for embedded runs copied to
 * {@code jobs/target/lib}). No other module depends on it. The classes are entry points, not a library API: {@link
 * Launcher} and {@link FlinkSlmCli} are annotated {@code @Internal} and the subcommands are package-private.
 */
package dev.flinkslm.jobs;
