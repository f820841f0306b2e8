package dev.flinkslm.operators.internal.versions;

import org.apache.flink.annotation.Internal;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Collections;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Which keys a deployment targets: all keys, a list of keys, or a sticky share of keys.
 *
 * <p>A share is decided by a stable 64-bit hash of the key's string form, salted with the
 * deployment's command id, so the same deployment picks the same keys on every subtask, after every
 * restart and rescale, while two canaries of 10% pick different keys. Immutable.
 */
@Internal
public final class Scope {

    /** Buckets of a share: percent is kept in hundredths (10% = 1000 of 10,000). */
    public static final int BUCKETS = 10_000;

    public enum Kind {
        ALL,
        KEYS,
        PERCENT
    }

    private static final Scope ALL = new Scope(Kind.ALL, Collections.emptySortedSet(), 0, 0);

    private final Kind kind;
    private final SortedSet<String> keys;
    private final int buckets;
    private final long salt;

    private Scope(Kind kind, SortedSet<String> keys, int buckets, long salt) {
        this.kind = kind;
        this.keys = keys;
        this.buckets = buckets;
        this.salt = salt;
    }

    public static Scope all() {
        return ALL;
    }

    public static Scope keys(Collection<String> keys) {
        return new Scope(Kind.KEYS, Collections.unmodifiableSortedSet(new TreeSet<>(keys)), 0, 0);
    }

    /** A share of {@code buckets} out of {@value #BUCKETS}; 10,000 is all keys. */
    public static Scope share(int buckets, long salt) {
        if (buckets >= BUCKETS) {
            return ALL;
        }
        return new Scope(Kind.PERCENT, Collections.emptySortedSet(), Math.max(1, buckets), salt);
    }

    /** The share of a percentage in (0, 100], rounded to hundredths of a percent (at least one bucket). */
    public static Scope percent(double percent, String saltSource) {
        return share((int) Math.round(percent * 100), salt(saltSource));
    }

    public Kind kind() {
        return kind;
    }

    public SortedSet<String> keys() {
        return keys;
    }

    public int buckets() {
        return buckets;
    }

    public long salt() {
        return salt;
    }

    public boolean isAll() {
        return kind == Kind.ALL;
    }

    /** Whether the key (its string form, hashed with {@link #hash}) is targeted. */
    public boolean contains(String key, long keyHash) {
        return switch (kind) {
            case ALL -> true;
            case KEYS -> keys.contains(key);
            case PERCENT -> bucket(keyHash, salt) < buckets;
        };
    }

    /** Short form for audit records: {@code all}, {@code keys:<n>}, {@code percent:<p>}. */
    public String describe() {
        return switch (kind) {
            case ALL -> "all";
            case KEYS -> "keys:" + keys.size();
            case PERCENT -> "percent:" + (buckets / 100.0);
        };
    }

    /** A key's bucket in [0, {@value #BUCKETS}) for one salt. */
    public static int bucket(long keyHash, long salt) {
        return (int) Long.remainderUnsigned(mix(keyHash ^ salt), BUCKETS);
    }

    /** FNV-1a over the UTF-8 bytes: specified, so identical on every JVM. */
    public static long hash(String value) {
        long h = 0xcbf29ce484222325L;
        for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** The salt of a deployment: a hash of its command id. */
    public static long salt(String commandId) {
        return mix(hash("slm-share:" + commandId));
    }

    /** SplitMix64's finaliser, so neighbouring hashes land in unrelated buckets. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Scope s && kind == s.kind && buckets == s.buckets && salt == s.salt && keys.equals(s.keys);
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + keys.hashCode() * 17 + buckets + Long.hashCode(salt);
    }

    @Override
    public String toString() {
        return describe();
    }
}
