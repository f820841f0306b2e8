package dev.flinkslm.tests.cluster;

import dev.flinkslm.models.ModelManifest;
import dev.flinkslm.models.compliance.DefaultModel;
import dev.flinkslm.models.compliance.Precision;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** A second version of the built-in model (same weights, another version string) to deploy as a canary. */
final class CanaryBundle {

    private CanaryBundle() {}

    static Path write(Path target, String version) {
        try {
            Path source = DefaultModel.bundleDirectory(Precision.INT8);
            ModelManifest manifest = ModelManifest.read(source);
            Files.createDirectories(target);
            for (String file : manifest.sha256().keySet()) {
                Files.copy(source.resolve(file), target.resolve(file), StandardCopyOption.REPLACE_EXISTING);
            }
            manifest.withVersion(version).write(target);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException("cannot write the canary bundle: " + e.getMessage(), e);
        }
    }
}
