package dev.flinkslm.models;

import java.io.Serializable;

/**
 * Size and count limits that every bundle must stay within before anything of it is parsed, kept
 * in memory or unpacked. A bundle over a limit is rejected with {@link
 * BundleException.Reason#LIMIT_EXCEEDED} naming the limit and how to raise it.
 *
 * <pre>{@code
 * BundleLoader loader = BundleLoader.builder()
 *         .roots(ModelRoots.of("/opt/models"))
 *         .limits(BundleLimits.defaults().withMaxBundleBytes(1536L << 20)) // a 1.5 GiB model
 *         .build();
 * }</pre>
 *
 * <p>Bundle files are read whole into memory to be verified and then handed to ONNX Runtime, so
 * {@code maxBundleBytes} also bounds the heap one load needs. A single file can never exceed
 * {@link #MAX_FILE_BYTES} (the largest Java array). Immutable.
 *
 * @param maxManifestBytes largest {@code manifest.json} (default {@value #DEFAULT_MAX_MANIFEST_BYTES} = 1 MiB)
 * @param maxGoldenExamples most golden examples in a manifest (default {@value #DEFAULT_MAX_GOLDEN_EXAMPLES})
 * @param maxBundleBytes largest total of the manifest and every listed file (default {@value
 *     #DEFAULT_MAX_BUNDLE_BYTES} = 1 GiB)
 * @param maxArchiveEntries most entries (files and folders) in a {@code .zip}/{@code .jar} bundle
 *     (default {@value #DEFAULT_MAX_ARCHIVE_ENTRIES})
 * @param maxArchiveEntryBytes largest unpacked entry of an archive, counted as bytes are written,
 *     whatever the entry's header claims (default {@value #DEFAULT_MAX_ARCHIVE_ENTRY_BYTES} = 1 GiB)
 * @param maxArchiveBytes largest total unpacked size of an archive, counted the same way (default
 *     {@value #DEFAULT_MAX_ARCHIVE_BYTES} = 1 GiB)
 */
public record BundleLimits(
        long maxManifestBytes,
        int maxGoldenExamples,
        long maxBundleBytes,
        int maxArchiveEntries,
        long maxArchiveEntryBytes,
        long maxArchiveBytes)
        implements Serializable {

    private static final long serialVersionUID = 1L;

    /** 1 MiB: a manifest is metadata and golden examples, never data. */
    public static final long DEFAULT_MAX_MANIFEST_BYTES = 1L << 20;

    /** 1,000 golden examples: they run at every admission and every load. */
    public static final int DEFAULT_MAX_GOLDEN_EXAMPLES = 1_000;

    /** 1 GiB: ten times the fp32 MiniLM bundle (about 91 MB). */
    public static final long DEFAULT_MAX_BUNDLE_BYTES = 1L << 30;

    /** 64 archive entries: a bundle is a manifest, a graph, a tokenizer and perhaps a few side files. */
    public static final int DEFAULT_MAX_ARCHIVE_ENTRIES = 64;

    /** 1 GiB per unpacked archive entry. */
    public static final long DEFAULT_MAX_ARCHIVE_ENTRY_BYTES = 1L << 30;

    /** 1 GiB unpacked per archive. */
    public static final long DEFAULT_MAX_ARCHIVE_BYTES = 1L << 30;

    /** The largest file that can be read into memory at all (the largest Java byte array). */
    public static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 8;

    public BundleLimits {
        requireRange("maxManifestBytes", maxManifestBytes, MAX_FILE_BYTES);
        requireRange("maxGoldenExamples", maxGoldenExamples, Integer.MAX_VALUE);
        requireRange("maxBundleBytes", maxBundleBytes, Long.MAX_VALUE);
        requireRange("maxArchiveEntries", maxArchiveEntries, Integer.MAX_VALUE);
        requireRange("maxArchiveEntryBytes", maxArchiveEntryBytes, Long.MAX_VALUE);
        requireRange("maxArchiveBytes", maxArchiveBytes, Long.MAX_VALUE);
    }

    private static void requireRange(String name, long value, long max) {
        if (value < 0 || value > max) {
            throw new IllegalArgumentException(
                    "bundle limit " + name + " must be between 0 and " + max + ", was " + value);
        }
    }

    /** The documented defaults. */
    public static BundleLimits defaults() {
        return new BundleLimits(
                DEFAULT_MAX_MANIFEST_BYTES,
                DEFAULT_MAX_GOLDEN_EXAMPLES,
                DEFAULT_MAX_BUNDLE_BYTES,
                DEFAULT_MAX_ARCHIVE_ENTRIES,
                DEFAULT_MAX_ARCHIVE_ENTRY_BYTES,
                DEFAULT_MAX_ARCHIVE_BYTES);
    }

    public BundleLimits withMaxManifestBytes(long value) {
        return new BundleLimits(
                value, maxGoldenExamples, maxBundleBytes, maxArchiveEntries, maxArchiveEntryBytes, maxArchiveBytes);
    }

    public BundleLimits withMaxGoldenExamples(int value) {
        return new BundleLimits(
                maxManifestBytes, value, maxBundleBytes, maxArchiveEntries, maxArchiveEntryBytes, maxArchiveBytes);
    }

    public BundleLimits withMaxBundleBytes(long value) {
        return new BundleLimits(
                maxManifestBytes, maxGoldenExamples, value, maxArchiveEntries, maxArchiveEntryBytes, maxArchiveBytes);
    }

    public BundleLimits withMaxArchiveEntries(int value) {
        return new BundleLimits(
                maxManifestBytes, maxGoldenExamples, maxBundleBytes, value, maxArchiveEntryBytes, maxArchiveBytes);
    }

    public BundleLimits withMaxArchiveEntryBytes(long value) {
        return new BundleLimits(
                maxManifestBytes, maxGoldenExamples, maxBundleBytes, maxArchiveEntries, value, maxArchiveBytes);
    }

    public BundleLimits withMaxArchiveBytes(long value) {
        return new BundleLimits(
                maxManifestBytes, maxGoldenExamples, maxBundleBytes, maxArchiveEntries, maxArchiveEntryBytes, value);
    }
}
