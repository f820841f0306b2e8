package dev.flinkslm.operators.internal.versions;

import dev.flinkslm.models.ModelRef;
import org.apache.flink.annotation.Internal;

/**
 * A version the rule log knows: where it is loaded from and the SHA-256 of its manifest (pinning
 * every file), whether it was retired. Immutable.
 */
@Internal
public record CatalogEntry(VersionKey version, String uri, String sha256, boolean retired) {

    public ModelRef ref() {
        return new ModelRef(version.id(), version.version(), uri, sha256);
    }

    CatalogEntry retire() {
        return new CatalogEntry(version, uri, sha256, true);
    }
}
