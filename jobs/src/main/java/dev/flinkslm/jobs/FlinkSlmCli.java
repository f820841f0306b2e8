package dev.flinkslm.jobs;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code flink-slm.jar} command line: model tooling, benchmarks and the screening job.
 *
 * <pre>
 * java -jar jobs/target/flink-slm.jar model validate --bundle default
 * java -jar jobs/target/flink-slm.jar screen --max-events 20000
 * </pre>
 */
@Command(
        name = "flink-slm",
        mixinStandardHelpOptions = true,
        versionProvider = FlinkSlmCli.Version.class,
        description = "Small language model scoring for Apache Flink.",
        subcommands = {ModelCommand.class, BenchCommand.class, ScreenCommand.class, CommandLine.HelpCommand.class})
public final class FlinkSlmCli implements Runnable {

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        int code = run(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    /** Runs a command line and returns its exit code (0 = success). */
    public static int run(String... args) {
        return commandLine().execute(args);
    }

    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new FlinkSlmCli());
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println("error: " + ex.getMessage());
            return 1;
        });
        return cli;
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = FlinkSlmCli.class.getPackage().getImplementationVersion();
            return new String[] {"flink-slm " + (v == null ? "development build" : v)};
        }
    }
}
