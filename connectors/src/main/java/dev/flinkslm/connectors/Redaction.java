package dev.flinkslm.connectors;

import org.apache.flink.annotation.PublicEvolving;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one place that decides what is a secret and hides it from messages, logs and exceptions:
 * Kafka client property maps, command lines, and text that may quote a command line.
 *
 * <p>The rule: a key, option name or value "looks secret" when it contains, case-insensitively,
 * one of {@code password}, {@code passwd}, {@code pass}, {@code secret}, {@code jaas},
 * {@code token}, {@code key}, {@code credential}, {@code auth} or {@code private} (so
 * {@code sasl.jaas.config}, {@code ssl.key.password}, {@code ssl.truststore.password},
 * {@code basic.auth.user.info} and every {@code sasl.oauthbearer.*} key). Over-redaction, e.g. of
 * {@code key.serializer}, is accepted. The value of a secret-looking key is replaced by
 * {@value #MASK}; the key stays so that messages still say which setting is meant.
 *
 * <pre>{@code
 * LOG.info("Kafka properties {}", Redaction.properties(props));   // sasl.jaas.config=****
 * String line = String.join(" ", Redaction.commandLine(args));     // --kafka-property sasl.jaas.config=****
 * err.println(Redaction.scrub(exception.getMessage(), args));      // any secret value from args -> ****
 * }</pre>
 *
 * <p>Command lines: an argument shaped like an option ({@code -x}, {@code --name}; an
 * {@code =value} suffix is its value) is an option name, unless it follows a secret-looking option
 * (see {@link #isOption}); any other argument is the value of the option before it, or a
 * subcommand. A value is masked when the option is {@value #KAFKA_PROPERTY_OPTION} and the
 * property key looks secret (a value without {@code =} is masked whole), when the option name
 * looks secret, when the value is a {@code key=value} pair whose key looks secret, or when the
 * value itself looks secret (a JAAS line, for instance, names {@code password}).
 *
 * <p>Threading: stateless.
 */
@PublicEvolving
public final class Redaction {

    /** What a hidden value is replaced with. */
    public static final String MASK = "****";

    /** The option whose values are Kafka client properties ({@code key=value}). */
    public static final String KAFKA_PROPERTY_OPTION = "--kafka-property";

    private static final List<String> MARKERS =
            List.of("password", "passwd", "pass", "secret", "jaas", "token", "key", "credential", "auth", "private");

    /** Secrets inside a value, e.g. {@code password="s3cret"} in a JAAS line. */
    private static final Pattern INNER = Pattern.compile(
            "([A-Za-z0-9_.\\-]+)\\s*=\\s*(\"(?:[^\"\\\\]|\\\\.)*\"?|'(?:[^'\\\\]|\\\\.)*'?|[^\\s;,\"']+)");

    /** An option name, with or without an {@code =value}. */
    private static final Pattern OPTION = Pattern.compile("--?[A-Za-z][A-Za-z0-9._-]*(=.*)?", Pattern.DOTALL);

    /** Shorter values are not searched for in {@link #scrub}: they would mangle every message. */
    private static final int MIN_SCRUB_LENGTH = 3;

    private Redaction() {}

    /** Whether {@code key} (a property key, option name or value) looks like it names or holds a secret. */
    public static boolean looksSecret(String key) {
        if (key == null) {
            return false;
        }
        String k = key.toLowerCase(Locale.ROOT);
        for (String marker : MARKERS) {
            if (k.contains(marker)) {
                return true;
            }
        }
        return false;
    }

    /** A copy of {@code properties} in the same order with the values of secret-looking keys masked. */
    public static Map<String, String> properties(Map<String, String> properties) {
        Map<String, String> copy = new LinkedHashMap<>();
        if (properties != null) {
            properties.forEach((k, v) -> copy.put(k, looksSecret(k) || looksSecret(v) ? MASK : v));
        }
        return copy;
    }

    /**
     * One {@code key=value} entry with its value masked when the key or value looks secret; an
     * entry without a key is masked whole (there is no telling what it holds).
     */
    public static String entry(String keyValue) {
        if (keyValue == null) {
            return "null";
        }
        int eq = keyValue.indexOf('=');
        if (eq <= 0) {
            return MASK;
        }
        String key = keyValue.substring(0, eq);
        return looksSecret(key) || looksSecret(keyValue.substring(eq + 1)) ? key + "=" + MASK : keyValue;
    }

    /**
     * Whether {@code arg} is an option rather than a value: it is shaped like one ({@code -x},
     * {@code --name}, {@code --name=value}; so {@code -0.5} is a value) and does not follow an
     * option whose name looks secret and takes the next argument (a password may start with
     * {@code -}).
     *
     * @param previous the argument before {@code arg}, or null
     */
    public static boolean isOption(String arg, String previous) {
        if (arg == null || !OPTION.matcher(arg).matches()) {
            return false;
        }
        return previous == null
                || !OPTION.matcher(previous).matches()
                || previous.indexOf('=') >= 0
                || !(looksSecret(previous) || KAFKA_PROPERTY_OPTION.equals(previous));
    }

    /** The option name of an argument: {@code --opt=value} becomes {@code --opt}; other arguments are returned as they are. */
    public static String optionName(String arg) {
        if (arg == null || !arg.startsWith("-")) {
            return arg;
        }
        int eq = arg.indexOf('=');
        return eq < 0 ? arg : arg.substring(0, eq);
    }

    /** {@code args} with every secret value masked (see the class comment for the rule). */
    public static List<String> commandLine(String... args) {
        List<String> out = new ArrayList<>();
        if (args == null) {
            return out;
        }
        String option = null;
        String previous = null;
        for (String arg : args) {
            boolean isOption = isOption(arg, previous);
            previous = arg;
            if (arg == null) {
                out.add("null");
                option = null;
            } else if (isOption) {
                int eq = arg.indexOf('=');
                if (eq < 0) {
                    out.add(arg);
                    option = arg;
                } else {
                    String name = arg.substring(0, eq);
                    out.add(name + "=" + redactValue(name, arg.substring(eq + 1)));
                    option = null;
                }
            } else {
                out.add(redactValue(option, arg));
                option = null;
            }
        }
        return out;
    }

    /**
     * {@code text} with every secret value of {@code args} (what {@link #commandLine} masks, and the
     * secret parts inside it such as a JAAS {@code password="..."}) replaced by {@value #MASK}.
     * Defence in depth for messages built by code that may have quoted an argument.
     */
    public static String scrub(String text, String... args) {
        if (text == null || args == null || args.length == 0) {
            return text;
        }
        Set<String> secrets = secretValues(args);
        if (secrets.isEmpty()) {
            return text;
        }
        List<String> longestFirst = new ArrayList<>(secrets);
        longestFirst.sort(Comparator.comparingInt(String::length).reversed());
        String result = text;
        for (String s : longestFirst) {
            result = result.replace(s, MASK);
        }
        return result;
    }

    /** The values {@link #commandLine} would hide, with their secret parts, at least 3 characters long. */
    static Set<String> secretValues(String... args) {
        Set<String> secrets = new LinkedHashSet<>();
        List<String> redacted = commandLine(args);
        for (int i = 0; i < args.length; i++) {
            String original = args[i];
            String shown = redacted.get(i);
            if (original == null || original.equals(shown)) {
                continue;
            }
            // The hidden part is what follows the common prefix (an option name or a property key).
            int keep = shown.length() - MASK.length();
            String hidden = original.substring(Math.max(0, Math.min(keep, original.length())));
            addSecret(secrets, hidden);
            addSecret(secrets, original);
            addInnerSecrets(secrets, hidden);
        }
        return secrets;
    }

    private static void addInnerSecrets(Set<String> secrets, String value) {
        Matcher m = INNER.matcher(value);
        while (m.find()) {
            String v = m.group(2);
            char quote = v.isEmpty() ? 0 : v.charAt(0);
            if (quote == '"' || quote == '\'') {
                v = v.substring(1, v.length() > 1 && v.charAt(v.length() - 1) == quote ? v.length() - 1 : v.length());
                addSecret(secrets, v);
                // as the login module reads it: escapes resolved (password="ab\"cd" is ab"cd)
                addSecret(secrets, v.replaceAll("\\\\(.)", "$1"));
            } else {
                addSecret(secrets, v);
            }
        }
    }

    private static void addSecret(Set<String> secrets, String value) {
        if (value != null && value.length() >= MIN_SCRUB_LENGTH && !value.equals(MASK)) {
            secrets.add(value);
        }
    }

    private static String redactValue(String option, String value) {
        if (KAFKA_PROPERTY_OPTION.equals(option)) {
            return entry(value);
        }
        if (looksSecret(option) || looksSecret(value)) {
            int eq = value.indexOf('=');
            return eq > 0 ? value.substring(0, eq) + "=" + MASK : MASK;
        }
        return value;
    }
}
