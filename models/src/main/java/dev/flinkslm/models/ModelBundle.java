package dev.flinkslm.models;

import java.net.URI;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A bundle whose files exist locally and match the checksums of its manifest.
 *
 * <p>Obtained from {@link BundleLoader#load}. Immutable and thread-safe. The graph itself is checked
 * when a {@link ScoringSession} is created from it.
 */
public final class ModelBundle {

    private final URI uri;
    private final Path directory;
    private final ModelManifest manifest;
    private final String manifestSha256;

    ModelBundle(URI uri, Path directory, ModelManifest manifest, String manifestSha256) {
        this.uri = Objects.requireNonNull(uri);
        this.directory = Objects.requireNonNull(directory);
        this.manifest = Objects.requireNonNull(manifest);
        this.manifestSha256 = Objects.requireNonNull(manifestSha256);
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

    public Path modelFile() {
        return directory.resolve(manifest.model());
    }

    public Path tokenizerFile() {
        return directory.resolve(manifest.tokenizer());
    }

    /** The reference that state stores for this bundle. */
    public ModelRef ref() {
        return new ModelRef(manifest.id(), manifest.version(), uri.toString(), manifestSha256);
    }

    @Override
    public String toString() {
        return manifest.id() + ":" + manifest.version() + " (" + uri + ")";
    }
}
