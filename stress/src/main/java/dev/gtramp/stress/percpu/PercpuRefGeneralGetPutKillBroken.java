package dev.gtramp.stress.percpu;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.stress.gate.CaughtBy;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.EnumSet;

/**
 * {@link GeneralGetPutKill} with {@link UnsafeVariant#PERCPU_REF_KILL_WITHOUT_GRACE_PERIOD}, broken on
 * purpose: the switch to atomic mode folds the per-CPU counts at once, without waiting for a grace
 * period of the general flavor (so for no {@code rcu_read_unlock} of a get or put under way), and
 * can miss a get or a put under way. Must show an early release ({@code 1, *}: a lost
 * get let the count reach zero while CPU 0 held references, and its last put then goes below zero,
 * {@code 1, -1}) or a missing one ({@code 0, 0}: a lost put keeps the count above zero).
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link GetPutKill} and inherited
 * through {@link GeneralGetPutKill}.
 */
@CaughtBy({"1, .*", "0, 0"})
@JCStressTest
@Description("broken on purpose (PERCPU_REF_KILL_WITHOUT_GRACE_PERIOD), must show an early release (1, *) or a missing one (0, 0)")
@State
public class PercpuRefGeneralGetPutKillBroken extends GeneralGetPutKill {
    public PercpuRefGeneralGetPutKillBroken() {
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
