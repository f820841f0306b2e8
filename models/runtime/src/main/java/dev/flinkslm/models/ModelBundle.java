package dev.flinkslm.models;

import java.lang.ref.SoftReference;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A bundle whose files were read, checked against the checksums of its manifest and found to be
 * exactly what the manifest lists.
 *
 * <p>Obtained from {@link BundleLoader#load}. The verified bytes of the bundle's files stay with
 * the bundle until a {@link ScoringSession} is created from it, which takes them: what runs is what
 * was verified, even if the files on disk change in between. They are held softly (the garbage
 * collector may drop them under memory pressure) and handed out once; a session opened after that
 * reads and verifies the files again and fails with {@code CHECKSUM_MISMATCH} if they changed.
 *
 * <p>Thread-safe. {@link #modelFile()} and {@link #tokenizerFile()} are for tooling that reports on
 * a bundle; nothing that scores reads those paths.
 */
public final class ModelBundle {

    private final URI uri;
    private final Path directory;
    private final ModelManifest manifest;
    private final String manifestSha256;
    private final BundleLimits limits;
    private final ModelRoots roots;
    private final AtomicReference<SoftReference<Map<String, byte[]>>> verifiedFiles;

    ModelBundle(
            URI uri,
            Path directory,
            ModelManifest manifest,
            String manifestSha256,
            BundleLimits limits,
            ModelRoots roots,
            Map<String, byte[]> files) {
        this.uri = Objects.requireNonNull(uri);
        this.directory = Objects.requireNonNull(directory);
        this.manifest = Objects.requireNonNull(manifest);
        this.manifestSha256 = Objects.requireNonNull(manifestSha256);
        this.limits = Objects.requireNonNull(limits);
        this.roots = roots;
        this.verifiedFiles = new AtomicReference<>(files == null ? null : new SoftReference<>(files));
    }

    public URI uri() {
        return uri;
    }

    public Path directory() {
        return directory;
    }

    public ModelManifest manifest() {
        return manifest;
    }

    public String id() {
        return manifest.id();
    }

    public String version() {
        return manifest.version();
    }

    /** Hex SHA-256 of {@code manifest.json}: identifies the exact artifact. */
    public String manifestSha256() {
        return manifestSha256;
    }

    /** The limits the bundle was verified within (and is verified within again if its files are read again). */
    public BundleLimits limits() {
        return limits;
    }

    /** The graph's path, for reporting only: sessions are created from verified bytes, never from this path. */
    public Path modelFile() {
        return directory.resolve(manifest.model());
    }

    /** The tokenizer's path, for reporting only. */
    public Path tokenizerFile() {
        return directory.resolve(manifest.tokenizer());
    }

    /** The reference that state stores for this bundle. */
    public ModelRef ref() {
        return new ModelRef(manifest.id(), manifest.version(), uri.toString(), manifestSha256);
    }

    /**
     * The verified bytes of every listed file by name, handed out once; afterwards (or if the
     * garbage collector dropped them) the files are read and verified again.
     */
    Map<String, byte[]> takeVerifiedFiles() throws BundleException {
        SoftReference<Map<String, byte[]>> ref = verifiedFiles.getAndSet(null);
        Map<String, byte[]> files = ref == null ? null : ref.get();
        if (files != null) {
            return files;
        }
        return BundleLoader.readVerified(uri, directory, manifestSha256, limits, roots)
                .files();
    }

    @Override
    public String toString() {
        return manifest.id() + ":" + manifest.version() + " (" + uri + ")";
    }
}
