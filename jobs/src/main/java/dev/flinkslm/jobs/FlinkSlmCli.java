package dev.flinkslm.jobs;

import dev.flinkslm.connectors.Redaction;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

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

    /** Runs a command line with its error output going to {@code err}; returns its exit code. */
    static int run(PrintWriter err, String... args) {
        CommandLine cli = commandLine();
        cli.setErr(err);
        try {
            return cli.execute(args);
        } finally {
            err.flush();
        }
    }

    /**
     * The command line with flink-slm's error handlers: no error message ever quotes a secret
     * argument ({@link Redaction}), and an unknown option is reported by its name only.
     */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new FlinkSlmCli());
        cli.setParameterExceptionHandler(FlinkSlmCli::handleParameterException);
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println("error: " + Redaction.scrub(ex.getMessage(), originalArgs(parseResult)));
            commandLine.getErr().flush();
            return 1;
        });
        return cli;
    }

    /**
     * picocli's own handler prints {@code ex.getMessage()}, which quotes the unmatched arguments,
     * e.g. a mistyped {@code --kafka-propety sasl.jaas.config=...password="..."} in full.
     */
    private static int handleParameterException(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println(parameterError(ex, args));
        boolean suggested = false;
        if (ex instanceof UnmatchedArgumentException unmatched) {
            List<String> suggestions = unmatched.getSuggestions();
            if (!suggestions.isEmpty()) {
                err.println("Did you mean: " + String.join(" or ", suggestions) + "?");
                suggested = true;
            }
        }
        if (!suggested) {
            cmd.usage(err, cmd.getColorScheme());
        }
        err.flush();
        CommandLine.Model.CommandSpec spec = cmd.getCommandSpec();
        return spec.exitCodeOnInvalidInput();
    }

    /** The message of a command-line error, without any argument value that may be a secret. */
    static String parameterError(ParameterException ex, String[] args) {
        if (ex instanceof UnmatchedArgumentException unmatched) {
            Set<String> options = new LinkedHashSet<>();
            int values = 0;
            String previous = null;
            for (String arg : unmatched.getUnmatched()) {
                if (Redaction.isOption(arg, previous)) {
                    options.add("'" + Redaction.optionName(arg) + "'");
                } else {
                    values++;
                }
                previous = arg;
            }
            List<String> parts = new ArrayList<>();
            if (!options.isEmpty()) {
                parts.add((options.size() == 1 ? "Unknown option: " : "Unknown options: ") + String.join(", ", options));
            }
            if (values > 0) {
                parts.add(values + (values == 1 ? " unexpected argument" : " unexpected arguments")
                        + " (values are not shown, they may be secrets)");
            }
            return parts.isEmpty() ? "Unmatched arguments" : String.join("; ", parts);
        }
        return Redaction.scrub(ex.getMessage(), args);
    }

    /**
     * A command line reduced to its subcommands and option names, every value shown as "...":
     * for messages that outlive the console, such as the exception of a failed submission.
     */
    static String outline(String... args) {
        List<String> out = new ArrayList<>();
        out.add("flink-slm");
        CommandLine current = commandLine();
        boolean inCommands = true;
        String previous = null;
        for (String arg : args == null ? new String[0] : args) {
            if (inCommands && arg != null && current.getSubcommands().containsKey(arg)) {
                out.add(arg);
                current = current.getSubcommands().get(arg);
                previous = arg;
                continue;
            }
            inCommands = false;
            if (Redaction.isOption(arg, previous)) {
                String name = Redaction.optionName(arg);
                out.add(name.length() < arg.length() ? name + "=..." : name);
            } else {
                out.add("...");
            }
            previous = arg;
        }
        return String.join(" ", out);
    }

    private static String[] originalArgs(CommandLine.ParseResult parseResult) {
        return parseResult == null ? new String[0] : parseResult.originalArgs().toArray(new String[0]);
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
