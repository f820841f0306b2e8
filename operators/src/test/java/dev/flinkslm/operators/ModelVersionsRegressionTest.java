package dev.flinkslm.operators;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkslm.models.BundleLoader;
import dev.flinkslm.models.ModelBundle;
import dev.flinkslm.models.SessionCache;
import dev.flinkslm.models.TinyBundles;
import dev.flinkslm.operators.internal.versions.AdmittedCommand;
import dev.flinkslm.operators.internal.versions.CatalogEntry;
import dev.flinkslm.operators.internal.versions.ControlLimits;
import dev.flinkslm.operators.internal.versions.Deployment;
import dev.flinkslm.operators.internal.versions.RuleLog;
import dev.flinkslm.operators.internal.versions.VersionKey;
import dev.flinkslm.operators.versions.ModelAudit;
import dev.flinkslm.operators.versions.ModelCommand;
import dev.flinkslm.operators.versions.ModelCommand.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Regressions found by {@link RoutingModelTest}, each as the shortest sequence that shows it. */
class ModelVersionsRegressionTest {

    @TempDir
    Path tmp;

    private static String sha(String version) {
        return String.format(Locale.ROOT, "%064x", version.hashCode());
    }

    private static AdmittedCommand deploy(String id, String version, Role role, List<String> keys) {
        String uri = "file:///models/" + version + "/";
        ModelCommand c = ModelCommand.deploy(id, uri, role);
        if (keys != null) {
            c.keys(keys);
        }
        return AdmittedCommand.of(c, 1L).admitted(new VersionKey("m", version), uri, sha(version));
    }

    /**
     * docs/model-versions.md, slm.versions.history: the newest 8 serving deployments for all keys are
     * kept, older serving deployments (all hidden) are dropped. A canary older than all 8 can never
     * route a key again (no command removes the newest serving deployment for all keys), so it goes
     * as soon as there are 8, not only once a 9th arrives.
     */
    @Test
    void historyDropsHiddenServingDeploymentsOlderThanTheEighthNewestForAllKeys() {
        ControlLimits limits = ControlLimits.defaults();
        RuleLog log = RuleLog.bootstrap(
                "initial", new CatalogEntry(new VersionKey("m", "1"), "file:///models/1/", sha("1"), false));
        assertThat(log.apply(deploy("canary", "2", Role.CANARY, List.of("a")), limits)
                        .accepted())
                .isTrue();
        for (int i = 1; i <= 7; i++) {
            assertThat(log.apply(deploy("c" + i, i % 2 == 0 ? "2" : "3", Role.ACTIVE, null), limits)
                            .accepted())
                    .isTrue();
        }
        AdmittedCommand retire = AdmittedCommand.of(ModelCommand.of("r1", ModelCommand.Action.RETIRE, "m", "1"), 1L);
        assertThat(log.apply(retire, limits).accepted()).isTrue();
        // 7 serving deployments for all keys, all newer than the canary: it stays (nothing reached the limit)
        assertThat(log.deployments())
                .extracting(Deployment::commandId)
                .containsExactly("canary", "c1", "c2", "c3", "c4", "c5", "c6", "c7");
        assertThat(log.apply(deploy("c8", "4", Role.ACTIVE, null), limits).accepted())
                .isTrue();
        assertThat(log.deployments())
                .extracting(Deployment::commandId)
                .containsExactly("c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8");
    }

    /**
     * A load that finished before the operator closed, but whose result mail never ran, must not keep
     * its session lease (a subtask closed for a rescale while a ROLLBACK target had just loaded).
     */
    @Test
    void aLoadResultStillInTheMailboxAtCloseReleasesItsLease() throws Exception {
        Path roots = tmp.resolve("models");
        Path v1 = TinyBundles.write(
                roots.resolve("v1"), new TinyBundles.Spec().id("m").version("1").seed(7));
        Path v2 = TinyBundles.write(
                roots.resolve("v2"), new TinyBundles.Spec().id("m").version("2").seed(99));
        VersionsSupport support = new VersionsSupport(VersionsSupport.config(v1, roots, b -> b), v1);
        ModelBundle b2 = BundleLoader.verify(v2.toUri(), v2, null);
        var h = support.harness();
        h.open();
        h.processElement2(support.admit(ModelCommand.deploy("c1", v2.toUri().toString(), Role.ACTIVE)));
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!h.getTaskMailbox().hasMail() && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(h.getTaskMailbox().hasMail())
                .as("the loader handed its result to the mailbox")
                .isTrue();
        assertThat(SessionCache.shared().references(b2, support.config.runtime()))
                .isEqualTo(1);
        h.close(); // the mail with the loaded slot never runs
        assertThat(SessionCache.shared().references(b2, support.config.runtime()))
                .as("leases on v2 after close")
                .isZero();
    }

    /**
     * docs/model-versions.md: versions no longer needed are released once every reachable version is
     * loaded and no event routed to them is being scored. After DEPLOY v2 and ROLLBACK, v2 is released
     * at once, not only when the next event or command arrives.
     */
    @Test
    void aVersionARollbackLeftUnneededIsReleasedWithoutWaitingForAnEvent() throws Exception {
        Path roots = tmp.resolve("models");
        Path v1 = TinyBundles.write(
                roots.resolve("v1"), new TinyBundles.Spec().id("m").version("1").seed(7));
        Path v2 = TinyBundles.write(
                roots.resolve("v2"), new TinyBundles.Spec().id("m").version("2").seed(99));
        VersionsSupport support = new VersionsSupport(VersionsSupport.config(v1, roots, b -> b), v1);
        try (var h = support.harness()) {
            h.open();
            support.command(h, ModelCommand.deploy("c1", v2.toUri().toString(), Role.ACTIVE));
            support.command(h, ModelCommand.of("c2", ModelCommand.Action.ROLLBACK, null, null));
            HarnessSupport.runQueuedMails(h);
            assertThat(VersionsSupport.audits(h))
                    .filteredOn(a -> ModelAudit.RELEASED.equals(a.outcome))
                    .extracting(a -> a.version)
                    .containsExactly("2");
        }
    }
}
