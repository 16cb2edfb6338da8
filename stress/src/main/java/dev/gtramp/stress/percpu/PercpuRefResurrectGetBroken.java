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
 * zero while CPU 0 still holds it; or, more often, the count goes wrong first: the resurrect adds
 * {@code PERCPU_COUNT_BIAS} while the kill's fold, which takes it out, is still to come, and a put of
 * CPU 0 on the atomic count (the final kill has set {@code __PERCPU_REF_DEAD} and waits for the late
 * callback) finds the count holding the bias twice, which the model's signed count shows as below
 * zero (the kernel's, where twice the bias wraps to 0, would reach zero early). Must show an early
 * release ({@code *, 1, *, *}; CPU 0's last put then goes below zero) or a put below zero
 * ({@code *, *, -1, *}).
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
