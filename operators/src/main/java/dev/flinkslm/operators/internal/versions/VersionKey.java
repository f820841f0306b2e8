package dev.flinkslm.operators.internal.versions;

import org.apache.flink.annotation.Internal;

import java.util.Objects;

/**
 * Identity of a model version: the bundle's model id and version string. Immutable.
 *
 * @param id the bundle's model id
 * @param version the bundle's version
 */
@Internal
public record VersionKey(String id, String version) implements Comparable<VersionKey> {

    public VersionKey {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(version, "version");
    }

    @Override
    public int compareTo(VersionKey o) {
        int c = id.compareTo(o.id);
        return c != 0 ? c : version.compareTo(o.version);
    }

    /** {@code id:version}. */
    @Override
    public String toString() {
        return id + ":" + version;
    }
}
