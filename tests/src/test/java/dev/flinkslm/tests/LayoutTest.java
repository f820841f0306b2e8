package dev.flinkslm.tests;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The rules of the README's Layout section, read from the main sources of every module: imports
 * between packages form no cycle, no module reaches into another module's {@code internal}
 * package, and the generic modules import nothing of the domain.
 */
class LayoutTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Pattern PACKAGE = Pattern.compile("(?m)^package\\s+([\\w.]+);");
    private static final Pattern CLASS_IMPORT =
            Pattern.compile("(?m)^import\\s+(?:static\\s+)?(dev\\.flinkslm\\.[\\w.]+?\\.[A-Z]\\w*)[.;]");
    private static final Pattern IMPORT =
            Pattern.compile("(?m)^import\\s+(?:static\\s+)?(dev\\.flinkslm\\.[\\w.]+?)\\.[A-Z]\\w*(?:\\.[\\w*]+)*;");

    /** A main source file's module (folder below the root with a pom), package and imported packages. */
    private record Source(String module, String pkg, Set<String> imports, Set<String> classImports, Path file) {}

    private static List<Source> sources() {
        List<Source> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(ROOT)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> p.toString().contains("/src/main/java/"))
                    .filter(p -> !p.toString().contains("/target/"))::iterator) {
                String text = Files.readString(f);
                Matcher pm = PACKAGE.matcher(text);
                if (!pm.find()) {
                    continue;
                }
                Set<String> imports = new HashSet<>();
                Matcher im = IMPORT.matcher(text);
                while (im.find()) {
                    imports.add(im.group(1));
                }
                Set<String> classImports = new HashSet<>();
                Matcher cm = CLASS_IMPORT.matcher(text);
                while (cm.find()) {
                    classImports.add(cm.group(1));
                }
                String rel = ROOT.relativize(f).toString();
                String module = rel.substring(0, rel.indexOf("/src/main/java/"));
                out.add(new Source(module, pm.group(1), imports, classImports, f));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    @Test
    void theModulesAreTheOnesTheReadmeNames() {
        Set<String> modules = new TreeSet<>();
        sources().forEach(s -> modules.add(s.module()));
        assertThat(modules)
                .containsExactly(
                        "connectors",
                        "jobs/bench",
                        "jobs/cli",
                        "jobs/screening",
                        "models/compliance",
                        "models/runtime",
                        "operators",
                        "operators/table");
    }

    /**
     * No two classes of different packages import each other. (A module's API package and its
     * {@code internal} package do depend on each other as packages: the API builds the
     * implementation, which uses the API's value types. Modules never do: Maven forbids it.)
     */
    @Test
    void noClassesOfDifferentPackagesImportEachOther() {
        Map<String, Set<String>> imports = new TreeMap<>();
        for (Source s : sources()) {
            imports.put(s.pkg() + "." + s.file().getFileName().toString().replace(".java", ""), s.classImports());
        }
        List<String> mutual = new ArrayList<>();
        imports.forEach((a, targets) -> {
            for (String b : targets) {
                if (a.compareTo(b) < 0 && imports.getOrDefault(b, Set.of()).contains(a)) {
                    mutual.add(a + " <-> " + b);
                }
            }
        });
        assertThat(mutual).isEmpty();
    }

    @Test
    void noModuleImportsAnotherModulesInternals() {
        Map<String, String> moduleOfPackage = new TreeMap<>();
        List<Source> sources = sources();
        sources.forEach(s -> moduleOfPackage.put(s.pkg(), s.module()));
        List<String> violations = new ArrayList<>();
        for (Source s : sources) {
            for (String p : s.imports()) {
                String owner = moduleOfPackage.get(p);
                if (p.contains(".internal") && owner != null && !owner.equals(s.module())) {
                    violations.add(ROOT.relativize(s.file()) + " imports " + p + " of " + owner);
                }
            }
        }
        assertThat(violations).isEmpty();
    }

    @Test
    void theGenericModulesImportNothingOfTheDomain() {
        List<String> violations = new ArrayList<>();
        for (Source s : sources()) {
            for (String p : s.imports()) {
                boolean bad = switch (s.module()) {
                    case "connectors" -> !p.startsWith("dev.flinkslm.connectors");
                    case "models/runtime" ->
                        !p.startsWith("dev.flinkslm.models") || p.startsWith("dev.flinkslm.models.compliance");
                    case "operators" ->
                        !p.startsWith("dev.flinkslm.operators") && !p.startsWith("dev.flinkslm.models")
                                || p.startsWith("dev.flinkslm.models.compliance");
                    case "operators/table" ->
                        !p.startsWith("dev.flinkslm.table")
                                        && !p.startsWith("dev.flinkslm.operators")
                                        && !p.startsWith("dev.flinkslm.models")
                                || p.startsWith("dev.flinkslm.models.compliance");
                    default -> false;
                };
                if (bad) {
                    violations.add(ROOT.relativize(s.file()) + " imports " + p);
                }
            }
        }
        assertThat(violations).isEmpty();
    }
}
