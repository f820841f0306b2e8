package dev.flinkslm.operators.internal.versions;

import dev.flinkslm.operators.versions.ModelCommand.Role;
import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.types.StringValue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Serializer of {@link RuleLog} in broadcast state. The binary layout starts with a format number
 * ({@value #FORMAT}) so a later version can read old checkpoints or refuse them with a clear
 * message. References only (ids, versions, URIs, SHA-256), never model bytes.
 */
@Internal
public final class RuleLogSerializer extends TypeSerializerSingleton<RuleLog> {

    private static final long serialVersionUID = 1L;

    /** Layout of the serialized rule log. */
    public static final int FORMAT = 1;

    public static final RuleLogSerializer INSTANCE = new RuleLogSerializer();

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public RuleLog createInstance() {
        return new RuleLog(0, List.of(), Map.of(), Map.of());
    }

    @Override
    public RuleLog copy(RuleLog from) {
        return from.copy();
    }

    @Override
    public RuleLog copy(RuleLog from, RuleLog reuse) {
        return from.copy();
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(RuleLog log, DataOutputView out) throws IOException {
        out.writeInt(FORMAT);
        out.writeLong(log.epoch());
        List<Deployment> deployments = log.deployments();
        out.writeInt(deployments.size());
        for (Deployment d : deployments) {
            StringValue.writeString(d.commandId(), out);
            writeVersion(d.version(), out);
            StringValue.writeString(d.role().name(), out);
            Scope s = d.scope();
            StringValue.writeString(s.kind().name(), out);
            out.writeInt(s.keys().size());
            for (String key : s.keys()) {
                StringValue.writeString(key, out);
            }
            out.writeInt(s.buckets());
            out.writeLong(s.salt());
        }
        Map<VersionKey, CatalogEntry> catalog = log.catalog();
        out.writeInt(catalog.size());
        for (CatalogEntry e : catalog.values()) {
            writeVersion(e.version(), out);
            StringValue.writeString(e.uri(), out);
            StringValue.writeString(e.sha256(), out);
            out.writeBoolean(e.retired());
        }
        Map<String, Long> seen = log.acceptedCommandIds();
        out.writeInt(seen.size());
        for (Map.Entry<String, Long> e : seen.entrySet()) {
            StringValue.writeString(e.getKey(), out);
            out.writeLong(e.getValue());
        }
    }

    @Override
    public RuleLog deserialize(DataInputView in) throws IOException {
        int format = in.readInt();
        if (format != FORMAT) {
            throw new IOException("the model rule log in this checkpoint has format " + format + "; this version of"
                    + " flink-slm reads format " + FORMAT + ". Restore with the flink-slm version that wrote it.");
        }
        long epoch = in.readLong();
        int n = in.readInt();
        List<Deployment> deployments = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String commandId = StringValue.readString(in);
            VersionKey version = readVersion(in);
            Role role = Role.valueOf(StringValue.readString(in));
            Scope.Kind kind = Scope.Kind.valueOf(StringValue.readString(in));
            int keyCount = in.readInt();
            TreeSet<String> keys = new TreeSet<>();
            for (int k = 0; k < keyCount; k++) {
                keys.add(StringValue.readString(in));
            }
            int buckets = in.readInt();
            long salt = in.readLong();
            Scope scope = switch (kind) {
                case ALL -> Scope.all();
                case KEYS -> Scope.keys(keys);
                case PERCENT -> Scope.share(buckets, salt);
            };
            deployments.add(new Deployment(commandId, version, role, scope));
        }
        int c = in.readInt();
        Map<VersionKey, CatalogEntry> catalog = new LinkedHashMap<>();
        for (int i = 0; i < c; i++) {
            VersionKey version = readVersion(in);
            catalog.put(
                    version,
                    new CatalogEntry(
                            version, StringValue.readString(in), StringValue.readString(in), in.readBoolean()));
        }
        int s = in.readInt();
        Map<String, Long> seen = new LinkedHashMap<>();
        for (int i = 0; i < s; i++) {
            seen.put(StringValue.readString(in), in.readLong());
        }
        return new RuleLog(epoch, deployments, catalog, seen);
    }

    @Override
    public RuleLog deserialize(RuleLog reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView in, DataOutputView out) throws IOException {
        serialize(deserialize(in), out);
    }

    private static void writeVersion(VersionKey v, DataOutputView out) throws IOException {
        StringValue.writeString(v.id(), out);
        StringValue.writeString(v.version(), out);
    }

    private static VersionKey readVersion(DataInputView in) throws IOException {
        return new VersionKey(StringValue.readString(in), StringValue.readString(in));
    }

    @Override
    public TypeSerializerSnapshot<RuleLog> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Serializer snapshot; the format number inside the data handles layout changes. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<RuleLog> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
