package dev.flinkslm.models.compliance;

import dev.flinkslm.models.BundleException;
import dev.flinkslm.models.BundleFetcher;

import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Resolves {@code default:int8} and {@code default:fp32} to the built-in compliance model, built
 * into the cache on first use. Registered with {@link java.util.ServiceLoader}.
 */
public final class DefaultBundleFetcher implements BundleFetcher {

    /** The scheme of the built-in compliance model's bundles. */
    public static final String SCHEME = "default";

    @Override
    public boolean supports(URI uri) {
        return SCHEME.equals(uri.getScheme());
    }

    @Override
    public String builtInScheme() {
        return SCHEME;
    }

    @Override
    public Path fetch(URI uri, Path cacheDirectory) throws BundleException {
        String variant = uri.getSchemeSpecificPart() == null
                ? ""
                : uri.getSchemeSpecificPart().toLowerCase(Locale.ROOT);
        Precision precision = switch (variant) {
            case "", "int8" -> Precision.INT8;
            case "fp32" -> Precision.FP32;
            default ->
                throw new BundleException(
                        BundleException.Reason.UNRESOLVABLE_URI,
                        "unknown built-in bundle " + uri + "; use default:int8 or default:fp32");
        };
        try {
            dev.flinkslm.models.FileTrees.requirePrivateDirectory(DefaultModel.cacheRoot());
        } catch (java.io.IOException e) {
            throw new BundleException(BundleException.Reason.UNRESOLVABLE_URI, e.getMessage(), e);
        }
        try {
            return DefaultModel.bundleDirectory(precision);
        } catch (RuntimeException e) {
            throw new BundleException(
                    BundleException.Reason.UNRESOLVABLE_URI,
                    "the built-in " + precision + " bundle cannot be built: " + e.getMessage(),
                    e);
        }
    }
}
