package dev.flinkslm.operators.internal.versions;

import dev.flinkslm.operators.versions.ModelCommand.Role;
import org.apache.flink.annotation.Internal;

import java.util.Objects;

/**
 * One rule of the log: a version deployed in a role for a scope, by a command. Immutable.
 *
 * @param commandId the DEPLOY or PROMOTE command that made it
 * @param version the version it routes to
 * @param role ACTIVE or CANARY (these serve keys) or SHADOW (scores on the side)
 * @param scope the keys it targets
 */
@Internal
public record Deployment(String commandId, VersionKey version, Role role, Scope scope) {

    public Deployment {
        Objects.requireNonNull(commandId, "commandId");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(scope, "scope");
    }

    /** Whether it decides which version serves its keys (ACTIVE, CANARY) rather than shadowing. */
    public boolean serving() {
        return role != Role.SHADOW;
    }

    @Override
    public String toString() {
        return commandId + ":" + role + " " + version + " " + scope;
    }
}
