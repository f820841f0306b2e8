package dev.flinkslm.operators.versions;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A model command on the control stream: deploy a version as active, canary or shadow (for all
 * keys, a list of keys, or a sticky percentage of keys), promote a canary, roll back, or retire a
 * version. Applying the same {@link #commandId} twice has no further effect.
 *
 * <pre>{@code
 * {"commandId":"c-17","action":"DEPLOY","role":"CANARY","uri":"file:///models/compliance/1.1.0","percent":10}
 * {"commandId":"c-18","action":"PROMOTE","modelId":"compliance-minilm","version":"1.1.0"}
 * {"commandId":"c-19","action":"ROLLBACK"}
 * {"commandId":"c-20","action":"RETIRE","modelId":"compliance-minilm","version":"1.0.0"}
 * }</pre>
 *
 * <p>A Flink POJO. {@link #parse} validates JSON and says what is wrong.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class ModelCommand implements java.io.Serializable {

    private static final long serialVersionUID = 1L;

    public enum Action { DEPLOY, PROMOTE, ROLLBACK, RETIRE }

    public enum Role { ACTIVE, CANARY, SHADOW }

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    /** Unique id; a command whose id was seen before is ignored (audited as DUPLICATE). */
    public String commandId;
    /** DEPLOY, PROMOTE, ROLLBACK or RETIRE. */
    public String action;
    /** For DEPLOY: ACTIVE (default), CANARY or SHADOW. */
    public String role;
    /** For DEPLOY: the bundle URI (must be inside the model roots). */
    public String uri;
    /** For DEPLOY: optional hex SHA-256 of the bundle's manifest.json, pinning the exact artifact. */
    public String sha256;
    /** For PROMOTE/RETIRE (and optionally DEPLOY): the bundle's model id. */
    public String modelId;
    /** For PROMOTE/RETIRE (and optionally DEPLOY): the bundle's version. */
    public String version;
    /** Target keys (their string form); absent means all keys unless {@link #percent} is set. */
    public List<String> keys;
    /** Target a sticky share of keys, 0 < percent <= 100, chosen by a stable hash of the key. */
    public Double percent;
    /** Who issued the command (free text, for the audit trail). */
    public String issuedBy;

    public ModelCommand() {}

    public static ModelCommand deploy(String commandId, String uri, Role role) {
        ModelCommand c = new ModelCommand();
        c.commandId = commandId;
        c.action = Action.DEPLOY.name();
        c.uri = uri;
        c.role = role.name();
        return c;
    }

    public static ModelCommand of(String commandId, Action action, String modelId, String version) {
        ModelCommand c = new ModelCommand();
        c.commandId = commandId;
        c.action = action.name();
        c.modelId = modelId;
        c.version = version;
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

    public Action actionValue() {
        return Action.valueOf(action.toUpperCase(Locale.ROOT));
    }

    public Role roleValue() {
        return role == null ? Role.ACTIVE : Role.valueOf(role.toUpperCase(Locale.ROOT));
    }

    /** Parses and validates a JSON command; throws {@link IllegalArgumentException} saying what is wrong. */
    public static ModelCommand parse(String json) {
        ModelCommand c;
        try {
            c = MAPPER.readValue(json, ModelCommand.class);
        } catch (Exception e) {
            throw new IllegalArgumentException("model command is not valid JSON: " + e.getMessage(), e);
        }
        if (c == null) {
            throw new IllegalArgumentException("model command is empty");
        }
        c.validate();
        return c;
    }

    public String toJson() {
        try {
            return MAPPER.writeValueAsString(this);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Checks required fields per action. */
    public ModelCommand validate() {
        List<String> problems = new ArrayList<>();
        if (commandId == null || commandId.isBlank()) {
            problems.add("commandId is required");
        }
        Action a = null;
        try {
            a = actionValue();
        } catch (RuntimeException e) {
            problems.add("action must be one of DEPLOY, PROMOTE, ROLLBACK, RETIRE (was " + action + ")");
        }
        try {
            roleValue();
        } catch (RuntimeException e) {
            problems.add("role must be one of ACTIVE, CANARY, SHADOW (was " + role + ")");
        }
        if (a == Action.DEPLOY && (uri == null || uri.isBlank())) {
            problems.add("DEPLOY needs uri");
        }
        if ((a == Action.PROMOTE || a == Action.RETIRE) && (modelId == null || version == null)) {
            problems.add(a + " needs modelId and version");
        }
        if (percent != null && !(percent > 0 && percent <= 100)) {
            problems.add("percent must be in (0, 100], was " + percent);
        }
        if (percent != null && keys != null) {
            problems.add("give keys or percent, not both");
        }
        if (sha256 != null && !sha256.matches("[0-9a-fA-F]{64}")) {
            problems.add("sha256 must be 64 hex digits");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("invalid model command " + commandId + ": " + String.join("; ", problems));
        }
        return this;
    }

    @Override
    public String toString() {
        return toJson();
    }
}
