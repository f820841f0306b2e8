package dev.flinkslm.jobs;

import dev.flinkslm.bench.BenchCommand;
import dev.flinkslm.connectors.Redaction;
import org.apache.flink.annotation.Internal;
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
        subcommands = {ModelToolsCommand.class, BenchCommand.class, ScreenCommand.class, CommandLine.HelpCommand.class})
@Internal
public final class FlinkSlmCli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Set by {@link Launcher} on the JVM it starts: the launcher's process id. */
    static final String PARENT_PID_PROPERTY = "flink-slm.launcher-pid";

    public static void main(String[] args) {
        dieWithLauncher();
        int code = run(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    /**
     * A JVM started by {@link Launcher} ends when the launcher does. Ctrl-C and SIGTERM reach it through the
     * launcher's shutdown hook; this covers a launcher that is killed (SIGKILL, a crashed terminal), which would
     * otherwise leave the job running in an orphaned JVM. It stops at once, like the launcher: what the job had
     * not committed is recovered from its last checkpoint with {@code screen --resume latest}.
     */
    private static void dieWithLauncher() {
        String pid = System.getProperty(PARENT_PID_PROPERTY);
        if (pid == null) {
            return;
        }
        ProcessHandle.of(Long.parseLong(pid))
                .ifPresentOrElse(
                        launcher -> launcher.onExit()
                                .thenRun(() -> Runtime.getRuntime().halt(137)),
                        () -> Runtime.getRuntime().halt(137));
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
        cli.setCaseInsensitiveEnumValuesAllowed(true); // --provider cpu, like --conf slm.runtime.provider=cpu
        cli.setParameterExceptionHandler(FlinkSlmCli::handleParameterException);
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println("error: " + scrub(ex.getMessage(), parseResult));
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
        err.println(parameterError(ex, expandArgumentFiles(args)));
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
                parts.add(
                        (options.size() == 1 ? "Unknown option: " : "Unknown options: ") + String.join(", ", options));
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

    /**
     * {@code text} scrubbed of the secret values of the command line as typed and as expanded
     * ({@code @file} arguments are read by picocli: their contents are arguments too).
     */
    static String scrub(String text, CommandLine.ParseResult parseResult) {
        if (parseResult == null) {
            return text;
        }
        String scrubbed = Redaction.scrub(
                text, expandArgumentFiles(parseResult.originalArgs().toArray(new String[0])));
        return Redaction.scrub(scrubbed, parseResult.expandedArgs().toArray(new String[0]));
    }

    /**
     * The arguments with each {@code @file} replaced by the arguments the file holds (picocli reads
     * such files; their contents may hold secrets just like the command line). Whitespace separates
     * arguments, single or double quotes group them; an unreadable file stays as it is.
     */
    static String[] expandArgumentFiles(String[] args) {
        List<String> out = new ArrayList<>();
        for (String arg : args == null ? new String[0] : args) {
            out.add(arg);
            if (arg == null || arg.length() < 2 || arg.charAt(0) != '@' || arg.charAt(1) == '@') {
                continue;
            }
            try {
                java.nio.file.Path file = java.nio.file.Path.of(arg.substring(1));
                if (java.nio.file.Files.isRegularFile(file) && java.nio.file.Files.size(file) <= (1 << 20)) {
                    out.addAll(splitArguments(java.nio.file.Files.readString(file)));
                }
            } catch (java.io.IOException | RuntimeException unreadable) {
                // picocli reports an unreadable argument file itself
            }
        }
        return out.toArray(new String[0]);
    }

    private static List<String> splitArguments(String text) {
        List<String> args = new ArrayList<>();
        StringBuilder current = null;
        char quote = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    current.append(c);
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
                current = current == null ? new StringBuilder() : current;
            } else if (Character.isWhitespace(c)) {
                if (current != null) {
                    args.add(current.toString());
                    current = null;
                }
            } else {
                current = current == null ? new StringBuilder() : current;
                current.append(c);
            }
        }
        if (current != null) {
            args.add(current.toString());
        }
        return args;
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Version and build commit from the jar manifest, as the build wrote them. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {describe(manifest())};
        }

        /** "flink-slm 0.1.0 (commit 1a2b3c4d5e)", with "-dirty" for uncommitted changes. */
        static String describe(java.util.jar.Attributes manifest) {
            String version = manifest == null ? null : manifest.getValue("Implementation-Version");
            if (version == null) {
                return "flink-slm development build (classes not run from the built jar)";
            }
            String commit = manifest.getValue("Build-Commit");
            boolean known = commit != null && !commit.isBlank() && !commit.startsWith("${");
            String dirty = "true".equals(manifest.getValue("Build-Dirty")) ? "-dirty" : "";
            return "flink-slm " + version + " (commit " + (known ? commit + dirty : "unknown") + ")";
        }

        private static java.util.jar.Attributes manifest() {
            try {
                java.net.URL location =
                        FlinkSlmCli.class.getProtectionDomain().getCodeSource().getLocation();
                if (!location.getPath().endsWith(".jar")) {
                    return null;
                }
                try (java.util.jar.JarFile jar = new java.util.jar.JarFile(new java.io.File(location.toURI()))) {
                    java.util.jar.Manifest m = jar.getManifest();
                    return m == null ? null : m.getMainAttributes();
                }
            } catch (java.io.IOException | java.net.URISyntaxException | SecurityException e) {
                return null;
            }
        }
    }
}
