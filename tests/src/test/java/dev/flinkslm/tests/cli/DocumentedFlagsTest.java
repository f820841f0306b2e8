package dev.flinkslm.tests.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkslm.jobs.FlinkSlmCli;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The flags the README and docs/ show exist in the command line, so that the docs cannot drift from the program:
 * every {@code flink-slm <command>} line of a fenced shell block uses only options of that command, every {@code
 * --flag} the prose quotes is an option of some command, and every option of {@code screen} is in the options
 * table of docs/screening-job.md.
 */
class DocumentedFlagsTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Pattern FENCE = Pattern.compile("(?s)```[a-z]*\\n(.*?)```");
    private static final Pattern INVOCATION =
            Pattern.compile("(?:flink-slm(?:\\.jar)?|\\./flink-slm)\\s+(screen|bench\\s+\\w+|model\\s+\\w+)(.*)");
    private static final Pattern FLAG = Pattern.compile("(?<![\\w-])(--[a-z][a-z0-9-]*)");
    private static final Pattern QUOTED_FLAG = Pattern.compile("`(--[a-z][a-z0-9-]*)[ =`]");
    /** Flags of other programs that the docs quote (Maven, Flink, Kafka's tools, docker, kubectl), and placeholders. */
    private static final Set<String> OTHER_PROGRAMS = Set.of(
            "--bootstrap-server",
            "--topic",
            "--partitions",
            "--replication-factor",
            "--config",
            "--create",
            "--from-beginning",
            "--isolation-level",
            "--property",
            "--describe",
            "--list",
            "--group",
            "--reset-offsets",
            "--to-earliest",
            "--execute",
            "--alter",
            "--all-topics",
            "--delete",
            "--file",
            "--detached",
            "--class",
            "--fromSavepoint",
            "--target",
            "--name",
            "--build-arg",
            "--tag",
            "--help",
            "--version",
            "--add-opens",
            "--opt");

    private static List<Path> docs() {
        try (Stream<Path> files = Files.list(ROOT.resolve("docs"))) {
            List<Path> all = new ArrayList<>(List.of(ROOT.resolve("README.md"), ROOT.resolve("docker/README.md")));
            files.filter(f -> f.toString().endsWith(".md")).sorted().forEach(all::add);
            return all;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static CommandLine command(String path) {
        CommandLine cli = FlinkSlmCli.commandLine();
        for (String part : path.trim().split("\\s+")) {
            cli = cli.getSubcommands().get(part);
            assertThat(cli).as("command '%s'", path).isNotNull();
        }
        return cli;
    }

    private static boolean hasOption(CommandLine cli, String flag) {
        CommandLine.Model.CommandSpec spec = cli.getCommandSpec();
        if (spec.findOption(flag) != null) {
            return true;
        }
        if (flag.startsWith("--no-")) {
            CommandLine.Model.OptionSpec positive = spec.findOption("--" + flag.substring(5));
            return positive != null && positive.negatable();
        }
        return false;
    }

    private static Set<String> allOptions(CommandLine cli) {
        Set<String> names = new TreeSet<>();
        for (CommandLine.Model.OptionSpec o : cli.getCommandSpec().options()) {
            for (String n : o.names()) {
                names.add(n);
                if (o.negatable() && n.startsWith("--")) {
                    names.add("--no-" + n.substring(2));
                }
            }
        }
        cli.getSubcommands().values().forEach(sub -> names.addAll(allOptions(sub)));
        return names;
    }

    @Test
    void everyShellCommandOfTheDocsUsesOnlyFlagsOfItsCommand() {
        List<String> wrong = new ArrayList<>();
        int invocations = 0;
        for (Path doc : docs()) {
            Matcher block = FENCE.matcher(read(doc));
            while (block.find()) {
                // a command continued with a trailing backslash is one line
                for (String line : block.group(1).replaceAll("\\\\\\n", " ").split("\\n")) {
                    Matcher m = INVOCATION.matcher(line);
                    if (!m.find()) {
                        continue;
                    }
                    invocations++;
                    CommandLine cli = command(m.group(1));
                    Matcher flag = FLAG.matcher(m.group(2));
                    while (flag.find()) {
                        if (!hasOption(cli, flag.group(1))) {
                            wrong.add(ROOT.relativize(doc) + ": " + flag.group(1) + " is not an option of '"
                                    + m.group(1) + "': " + line.strip());
                        }
                    }
                }
            }
        }
        assertThat(invocations).as("flink-slm commands in the docs").isGreaterThan(10);
        assertThat(wrong).isEmpty();
    }

    @Test
    void everyFlagTheProseQuotesExists() {
        Set<String> known = allOptions(FlinkSlmCli.commandLine());
        Set<String> wrong = new LinkedHashSet<>();
        for (Path doc : docs()) {
            Matcher m = QUOTED_FLAG.matcher(read(doc));
            while (m.find()) {
                String flag = m.group(1);
                if (!known.contains(flag) && !OTHER_PROGRAMS.contains(flag)) {
                    wrong.add(ROOT.relativize(doc) + ": " + flag);
                }
            }
        }
        assertThat(wrong).as("flags quoted in the docs that no command has").isEmpty();
    }

    @Test
    void everyScreenOptionIsInTheOptionsTable() {
        String table = read(ROOT.resolve("docs/screening-job.md"));
        List<String> missing = new ArrayList<>();
        for (CommandLine.Model.OptionSpec o : command("screen").getCommandSpec().options()) {
            String name = o.longestName();
            if (name.equals("--help") || name.equals("--version")) {
                continue;
            }
            String shown = o.negatable() ? "--[no-]" + name.substring(2) : name;
            if (!table.contains("`" + name) && !table.contains("`" + shown)) {
                missing.add(name);
            }
        }
        assertThat(missing)
                .as("screen options missing from docs/screening-job.md")
                .isEmpty();
    }
}
