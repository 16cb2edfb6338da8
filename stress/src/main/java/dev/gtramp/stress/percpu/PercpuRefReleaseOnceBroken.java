package dev.gtramp.stress.percpu;

import dev.gtramp.kernel.UnsafeVariant;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.EnumSet;

/**
 * {@link ReleaseOnce} with {@link UnsafeVariant#PERCPU_REF_KILL_WITHOUT_GRACE_PERIOD}, broken on
 * purpose: the switch to atomic mode folds the per-CPU counts at once, without waiting for a grace
 * period. Must show a release count other than 1.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link ReleaseOnce} and inherited.
 */
@JCStressTest
@Description("broken on purpose (PERCPU_REF_KILL_WITHOUT_GRACE_PERIOD), must show a release count other than 1")
@State
public class PercpuRefReleaseOnceBroken extends ReleaseOnce {
    public PercpuRefReleaseOnceBroken() {
        super(EnumSet.of(UnsafeVariant.PERCPU_REF_KILL_WITHOUT_GRACE_PERIOD));
    }

    @Actor
    public void cpu0(III_Result r) {
        putAll(r);
    }

    @Actor
    public void cpu1(III_Result r) {
        killAndPut(r);
    }

    @Arbiter
    public void arbiter(III_Result r) {
        check(r);
    }
}
