package dev.flinkslm.operators.internal.versions;

import dev.flinkslm.operators.versions.ModelCommand.Role;
import org.apache.flink.annotation.Internal;

/**
 * The answer of the routing fold for one key: the deployment that serves it and the shadow
 * deployment (if any) that scores it on the side. Immutable.
 */
@Internal
public record Target(Deployment serving, Deployment shadow) {

    public VersionKey servingVersion() {
        return serving == null ? null : serving.version();
    }

    /** {@code active} or {@code canary}: the result's variant. */
    public String variant() {
        return serving == null ? null : serving.role() == Role.CANARY ? "canary" : "active";
    }

    public VersionKey shadowVersion() {
        return shadow == null || shadow.version().equals(servingVersion()) ? null : shadow.version();
    }
}
