package dev.flinkslm.operators.internal;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The model catalog and the ordered log of model rules, identical on every subtask (broadcast
 * state). Stored as versioned JSON: references only (id, version, URI, SHA-256), never model bytes.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
final class ControlState {

    static final int FORMAT = 1;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    public int format = FORMAT;
    /** Every command id applied or refused, for idempotency. */
    public Set<String> seenCommands = new LinkedHashSet<>();
    /** Known versions by {@code id:version}. */
    public Map<String, Version> catalog = new LinkedHashMap<>();
    /** Rules in command order; a key's assignment applies them in this order. */
    public List<Rule> rules = new ArrayList<>();

    enum VersionStatus { LOADING, LIVE, REJECTED, RETIRED }

    enum RuleStatus { PENDING, LIVE, REJECTED }

    @JsonIgnoreProperties(ignoreUnknown = true)
    static final class Version {
        public String id;
        public String version;
        public String uri;
        public String sha256;
        public String status;

        String key() {
            return id + ":" + version;
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    static final class Rule {
        public String commandId;
        public String action;
        public String role;
        public String uri;
        public String sha256;
        /** {@code id:version} the rule is about (known once a deployed bundle has loaded). */
        public String target;
        public List<String> keys;
        public Double percent;
        public String status;
        public String reason;
    }

    static ControlState parse(String json) throws IOException {
        ControlState s = MAPPER.readValue(json, ControlState.class);
        if (s.format != FORMAT) {
            throw new IOException("model control state has format " + s.format + "; this version reads " + FORMAT);
        }
        return s;
    }

    String toJson() {
        try {
            return MAPPER.writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
