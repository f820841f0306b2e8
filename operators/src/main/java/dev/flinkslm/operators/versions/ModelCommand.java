package dev.flinkslm.operators.versions;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import org.apache.flink.annotation.PublicEvolving;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A model command on the control stream: deploy a version as active, canary or shadow (for all
 * keys, a list of keys, or a sticky percentage of keys), promote a version to all keys, roll back,
 * or retire a version. What each command does is defined in {@code docs/model-versions.md}.
 *
 * <pre>{@code
 * {"commandId":"c-17","action":"DEPLOY","role":"CANARY","uri":"file:///models/compliance/1.1.0","percent":10}
 * {"commandId":"c-18","action":"PROMOTE","modelId":"compliance-minilm","version":"1.1.0"}
 * {"commandId":"c-19","action":"ROLLBACK"}
 * {"commandId":"c-20","action":"RETIRE","modelId":"compliance-minilm","version":"1.0.0"}
 * }</pre>
 *
 * <p>{@link #parse} is strict: unknown fields, duplicate fields, wrong JSON types (a number as a
 * string, keys as a string), nesting deeper than {@value #MAX_NESTING} and oversize input are
 * errors, because a misspelt {@code "precent"} silently ignored would deploy to every key. A
 * command that cannot be parsed is still a command: {@link #malformed} carries the parse error and
 * the source position to the operator, which rejects it with an audit record, so nothing on the
 * control stream goes unanswered.
 *
 * <p>A Flink POJO with explicit type information ({@code SlmScoring.COMMAND_TYPE}). Mutable;
 * confine an instance to one thread.
 */
@PublicEvolving
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ModelCommand implements java.io.Serializable {

    private static final long serialVersionUID = 2L;

    /** What a command does. */
    public enum Action {
        DEPLOY,
        PROMOTE,
        ROLLBACK,
        RETIRE
    }

    /** The role of a deployed version for the keys it targets. */
    public enum Role {
        ACTIVE,
        CANARY,
        SHADOW
    }

    /** Default cap on the JSON size of one command (1 MiB); see {@code slm.versions.max-command-bytes}. */
    public static final int DEFAULT_MAX_BYTES = 1 << 20;

    /** JSON nesting allowed in a command: an object holding a list. */
    public static final int MAX_NESTING = 4;

    private static final ObjectMapper MAPPER = strictMapper();

    /** Unique id; a command whose id was accepted before is rejected as a duplicate. */
    public String commandId;
    /** DEPLOY, PROMOTE, ROLLBACK or RETIRE. */
    public String action;
    /** For DEPLOY: ACTIVE (default), CANARY or SHADOW. For ROLLBACK: SHADOW to end the newest shadow. */
    public String role;
    /** For DEPLOY: the bundle URI (must be inside the model roots). */
    public String uri;
    /** For DEPLOY: optional hex SHA-256 of the bundle's manifest.json, pinning the exact artifact. */
    public String sha256;
    /** For PROMOTE/RETIRE and a named ROLLBACK (optional for DEPLOY: then the bundle must match): model id. */
    public String modelId;
    /** For PROMOTE/RETIRE and a named ROLLBACK (optional for DEPLOY: then the bundle must match): version. */
    public String version;
    /** DEPLOY targets: these keys (their string form). Absent means all keys unless {@link #percent} is set. */
    public List<String> keys;
    /** DEPLOY targets: a sticky share of keys, 0 < percent <= 100, chosen by a hash salted per deployment. */
    public Double percent;
    /** Who issued the command (free text, for the audit trail). */
    public String issuedBy;
    /** Where the command came from (topic/partition/offset or file:line); set by the connector. */
    public String source;
    /**
     * Set by the job, never read from a command's JSON: the command was read again from the command topic's
     * history by a job that started without its state (a fresh start rebuilding its rules), so its audit record is
     * marked as a replay of the original at {@link #source}.
     */
    @JsonIgnore
    public boolean replay;

    /** Set when the raw command could not be parsed: why. Such a command is always rejected. */
    public String parseError;

    public ModelCommand() {}

    /** A DEPLOY of {@code uri} in {@code role} for all keys. */
    public static ModelCommand deploy(String commandId, String uri, Role role) {
        ModelCommand c = new ModelCommand();
        c.commandId = commandId;
        c.action = Action.DEPLOY.name();
        c.uri = uri;
        c.role = role.name();
        return c;
    }

    /** A PROMOTE, RETIRE or named ROLLBACK of {@code modelId:version} (both null for a plain ROLLBACK). */
    public static ModelCommand of(String commandId, Action action, String modelId, String version) {
        ModelCommand c = new ModelCommand();
        c.commandId = commandId;
        c.action = action.name();
        c.modelId = modelId;
        c.version = version;
        return c;
    }

    /** A command that could not be parsed; the operator rejects it with this reason. */
    public static ModelCommand malformed(String source, String reason) {
        ModelCommand c = new ModelCommand();
        c.source = source;
        c.parseError = reason;
        return c;
    }

    public ModelCommand keys(List<String> value) {
        this.keys = value;
        return this;
    }

    public ModelCommand percent(double value) {
        this.percent = value;
        return this;
    }

    public ModelCommand role(Role value) {
        this.role = value.name();
        return this;
    }

    public ModelCommand source(String value) {
        this.source = value;
        return this;
    }

    /** The action, or null when it is missing or not one of {@link Action}. */
    @JsonIgnore
    public Action actionValue() {
        return parseEnum(Action.class, action);
    }

    /** The role, {@link Role#ACTIVE} when absent, or null when it is not one of {@link Role}. */
    @JsonIgnore
    public Role roleValue() {
        return role == null ? Role.ACTIVE : parseEnum(Role.class, role);
    }

    private static <E extends Enum<E>> E parseEnum(Class<E> type, String value) {
        if (value == null || !value.chars().allMatch(ch -> ch < 128)) {
            return null;
        }
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * Parses a JSON command. Never throws: a command that cannot be parsed comes back as
     * {@link #malformed} with the reason (and its command id when that much could be read).
     *
     * @param source where the bytes came from, kept on the command for the audit trail
     * @param maxBytes larger input is rejected without parsing
     */
    public static ModelCommand parse(byte[] json, String source, int maxBytes) {
        if (json == null || json.length == 0) {
            return malformed(source, "the command is empty");
        }
        if (json.length > maxBytes) {
            return malformed(
                    source,
                    "the command has " + json.length + " bytes, more than the limit of " + maxBytes
                            + " (slm.versions.max-command-bytes); split key lists over several commands");
        }
        try {
            ModelCommand c = MAPPER.readValue(json, ModelCommand.class);
            if (c == null) {
                return malformed(source, "the command is JSON null");
            }
            if (c.parseError != null) {
                return malformed(source, "parseError is set by the connector, not by command authors");
            }
            c.source = source;
            return c;
        } catch (UnrecognizedPropertyException e) {
            return malformed(source, "unknown field '" + e.getPropertyName() + "'; known fields are " + FIELDS);
        } catch (Exception e) {
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            int newline = message.indexOf('\n');
            return malformed(
                    source, "not a valid model command: " + (newline < 0 ? message : message.substring(0, newline)));
        }
    }

    /** {@link #parse(byte[], String, int)} of a string with the default size limit. */
    public static ModelCommand parse(String json) {
        return parse(json == null ? null : json.getBytes(StandardCharsets.UTF_8), null, DEFAULT_MAX_BYTES);
    }

    private static final List<String> FIELDS = List.of(
            "commandId", "action", "role", "uri", "sha256", "modelId", "version", "keys", "percent", "issuedBy");

    private static ObjectMapper strictMapper() {
        JsonMapper mapper = JsonMapper.builder()
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .disable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .build();
        mapper.getFactory()
                .setStreamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(MAX_NESTING)
                        .maxStringLength(DEFAULT_MAX_BYTES)
                        .maxNumberLength(32)
                        .build());
        // No implicit conversions: "percent":"10" and "keys":"ACC-1" are errors, as are numbers for strings.
        mapper.coercionConfigFor(LogicalType.Float).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
        mapper.coercionConfigFor(LogicalType.Textual)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
        mapper.coercionConfigFor(LogicalType.Collection)
                .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
        return mapper;
    }

    /** The command as JSON (the fields its author writes, plus source/parseError when set). */
    public String toJson() {
        try {
            return MAPPER.writeValueAsString(this);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Checks the command's fields against the rules of its action and the limits. Returns the
     * problems, empty when the command is well-formed. Whether it can be applied (the version is
     * known, nothing still routes to it, ...) is decided against the rule log, not here.
     */
    public List<String> problems(int maxKeys) {
        List<String> problems = new ArrayList<>();
        if (parseError != null) {
            problems.add(parseError);
            return problems;
        }
        if (commandId == null || commandId.isBlank()) {
            problems.add("commandId is required");
        } else {
            checkText(problems, "commandId", commandId, 256);
        }
        Action a = actionValue();
        if (a == null) {
            problems.add("action must be one of DEPLOY, PROMOTE, ROLLBACK, RETIRE (was " + shorten(action) + ")");
        }
        Role r = roleValue();
        if (r == null) {
            problems.add("role must be one of ACTIVE, CANARY, SHADOW (was " + shorten(role) + ")");
        }
        checkText(problems, "uri", uri, 4096);
        checkText(problems, "modelId", modelId, 256);
        checkText(problems, "version", version, 256);
        checkText(problems, "issuedBy", issuedBy, 256);
        if (sha256 != null && !sha256.matches("[0-9a-fA-F]{64}")) {
            problems.add("sha256 must be 64 hex digits");
        }
        if ((modelId == null) != (version == null)) {
            problems.add("give modelId and version together");
        }
        if (a == Action.DEPLOY) {
            if (uri == null || uri.isBlank()) {
                problems.add("DEPLOY needs uri");
            }
            if (percent != null && keys != null) {
                problems.add("give keys or percent, not both");
            }
            if (percent != null && !(percent > 0 && percent <= 100)) {
                problems.add("percent must be in (0, 100], was " + percent);
            }
            if (keys != null) {
                if (keys.isEmpty()) {
                    problems.add("keys must not be empty; omit keys to target all keys");
                } else if (keys.size() > maxKeys) {
                    problems.add("keys lists " + keys.size() + " keys, more than the limit of " + maxKeys
                            + " (slm.versions.max-keys-per-command); split it over several commands");
                } else {
                    for (String key : keys) {
                        if (key == null) {
                            problems.add("keys must not contain null");
                            break;
                        }
                        if (key.length() > 1024) {
                            problems.add("a key is longer than 1024 characters");
                            break;
                        }
                    }
                }
            }
        } else if (a != null) {
            if (uri != null || sha256 != null) {
                problems.add(a + " takes no uri or sha256");
            }
            if (keys != null || percent != null) {
                problems.add(a + " applies to all keys and takes no keys or percent;"
                        + " to move some keys, DEPLOY with keys or percent");
            }
        }
        if ((a == Action.PROMOTE || a == Action.RETIRE) && modelId == null) {
            problems.add(a + " needs modelId and version");
        }
        if ((a == Action.PROMOTE || a == Action.RETIRE) && role != null) {
            problems.add(a + " takes no role");
        }
        if (a == Action.ROLLBACK && role != null && r != Role.SHADOW) {
            problems.add("ROLLBACK takes role SHADOW (to end the newest shadow) or no role");
        }
        if (a == Action.ROLLBACK && r == Role.SHADOW && role != null && modelId != null) {
            problems.add("ROLLBACK with role SHADOW takes no modelId/version");
        }
        return problems;
    }

    private static void checkText(List<String> problems, String field, String value, int maxLength) {
        if (value == null) {
            return;
        }
        if (value.length() > maxLength) {
            problems.add(field + " is longer than " + maxLength + " characters");
            return;
        }
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            boolean pairedHigh = Character.isHighSurrogate(ch)
                    && i + 1 < value.length()
                    && Character.isLowSurrogate(value.charAt(i + 1));
            if (pairedHigh) {
                i++;
            } else if (Character.isISOControl(ch) || Character.isSurrogate(ch)) {
                problems.add(field + " contains a control character or an unpaired surrogate");
                return;
            }
        }
    }

    private static String shorten(String value) {
        if (value == null) {
            return "missing";
        }
        return value.length() <= 40 ? value : value.substring(0, 40) + "...";
    }

    @Override
    public String toString() {
        return "ModelCommand{" + commandId + " " + action + (role == null ? "" : " " + role)
                + (modelId == null ? "" : " " + modelId + ":" + version) + (uri == null ? "" : " " + uri)
                + (keys == null ? "" : " keys=" + keys.size()) + (percent == null ? "" : " percent=" + percent)
                + (source == null ? "" : " from " + source) + (parseError == null ? "" : " malformed") + "}";
    }
}
