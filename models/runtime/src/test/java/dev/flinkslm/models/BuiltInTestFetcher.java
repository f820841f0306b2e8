package dev.flinkslm.models;

import java.net.URI;
import java.nio.file.Path;

/** A fetcher declaring the built-in scheme {@code builtin-test:} (registered for the runtime's tests only). */
public final class BuiltInTestFetcher implements BundleFetcher {

    @Override
    public boolean supports(URI uri) {
        return "builtin-test".equalsIgnoreCase(uri.getScheme());
    }

    @Override
    public Path fetch(URI uri, Path cacheDirectory) throws BundleException {
        throw new BundleException(BundleException.Reason.UNRESOLVABLE_URI, "no bundles behind " + uri);
    }

    @Override
    public String builtInScheme() {
        return "builtin-test";
    }
}
