package dev.flinkslm.models;

import java.io.Serializable;
import java.util.Objects;

/**
 * A small, serialisable reference to one model version: what Flink state holds instead of model
 * bytes.
 *
 * @param id the bundle's model id
 * @param version the bundle's version string
 * @param uri where the bundle is loaded from (checked against {@link ModelRoots})
 * @param sha256 hex SHA-256 of the bundle's {@code manifest.json}; pins the exact artifact (the
 *     manifest in turn pins every file). May be null to accept whatever the URI holds.
 */
public record ModelRef(String id, String version, String uri, String sha256) implements Serializable {

    private static final long serialVersionUID = 1L;

    public ModelRef {
        Objects.requireNonNull(uri, "uri");
    }

    /** A reference by URI only; id and version are learnt when the bundle is loaded. */
    public static ModelRef of(String uri) {
        return new ModelRef(null, null, uri, null);
    }

    /** {@code id:version}, or the URI when the bundle has not been loaded yet. */
    public String displayName() {
        return id == null ? uri : id + ":" + version;
    }
}
