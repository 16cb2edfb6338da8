package dev.gtramp.stress.percpu;

import dev.gtramp.kernel.UnsafeVariant;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.EnumSet;

/**
 * {@link GetPutKill} with {@link UnsafeVariant#PERCPU_REF_KILL_WITHOUT_GRACE_PERIOD}, broken on
 * purpose: the switch to atomic mode folds the per-CPU counts at once, without waiting for a grace
 * period. Must show an early, missing or extra release.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link GetPutKill} and inherited.
 */
@JCStressTest
@Description("broken on purpose (PERCPU_REF_KILL_WITHOUT_GRACE_PERIOD), must show an early, missing or extra release")
@State
public class PercpuRefGetPutKillBroken extends GetPutKill {
    public PercpuRefGetPutKillBroken() {
        super(EnumSet.of(UnsafeVariant.PERCPU_REF_KILL_WITHOUT_GRACE_PERIOD));
    }

    @Actor
    public void cpu0(II_Result r) {
        getPut(r);
    }

    @Actor
    public void killer() {
        kill();
    }

    @Arbiter
    public void arbiter(II_Result r) {
        check(r);
    }
}
