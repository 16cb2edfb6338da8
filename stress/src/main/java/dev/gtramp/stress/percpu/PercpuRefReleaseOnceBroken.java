package dev.gtramp.stress.percpu;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.stress.gate.CaughtBy;
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
 * period, and can miss a put under way. Must show a missing release ({@code *, *, 0}: the count
 * never reaches zero) or an early one ({@code 1, *, *} or {@code *, 1, *}: it reaches zero while a
 * reference is held).
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link ReleaseOnce} and inherited.
 */
@CaughtBy({"1, .*, .*", ".*, 1, .*", ".*, .*, 0"})
@JCStressTest
@Description("broken on purpose (PERCPU_REF_KILL_WITHOUT_GRACE_PERIOD), must show a missing release (*, *, 0) or an early one (1, *, * or *, 1, *)")
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
