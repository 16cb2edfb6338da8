package dev.gtramp.stress.percpu;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.stress.gate.CaughtBy;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

import java.util.EnumSet;

/**
 * {@link ResurrectGet} with {@link UnsafeVariant#PERCPU_REF_RESURRECT_WITHOUT_SWITCH_WAIT}, broken
 * on purpose: the resurrect switches the ref back to percpu mode without waiting for the kill's
 * switch to atomic mode, still waiting for its grace period, and zeroes CPU 0's per-CPU count
 * before the kill's callback folds it. CPU 0's reference is lost, so the final kill's count reaches
 * zero while CPU 0 still holds it, or the count the resurrect biased while the kill's fold was still
 * to come goes wrong first. Must show an early release ({@code *, 1, *, *}; CPU 0's last put then
 * goes below zero) or a put below zero ({@code *, *, -1, *}: a put of CPU 0 found the count
 * corrupted while the final kill waited for the late callback).
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link ResurrectGet} and inherited.
 */
@CaughtBy({".*, 1, .*, .*", ".*, .*, -1, .*"})
@JCStressTest
@Description("broken on purpose (PERCPU_REF_RESURRECT_WITHOUT_SWITCH_WAIT), must show an early release (*, 1, *, *) or a put below zero (*, *, -1, *)")
@State
public class PercpuRefResurrectGetBroken extends ResurrectGet {
    public PercpuRefResurrectGetBroken() {
        super(EnumSet.of(UnsafeVariant.PERCPU_REF_RESURRECT_WITHOUT_SWITCH_WAIT));
    }

    @Actor
    public void cpu0(IIII_Result r) {
        getAndTryGetLive(r);
    }

    @Actor
    public void killer() {
        killResurrectKill();
    }

    @Arbiter
    public void arbiter(IIII_Result r) {
        check(r);
    }
}
