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
 * {@link TryGetLiveKill} with {@link UnsafeVariant#PERCPU_REF_KILL_WITHOUT_GRACE_PERIOD}, broken
 * on purpose: the switch to atomic mode folds the per-CPU counts at once, without waiting for a
 * grace period. Must show {@code *, 1, 1, *}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link TryGetLiveKill} and inherited.
 */
@CaughtBy(".*, 1, 1, .*")
@JCStressTest
@Description("broken on purpose (PERCPU_REF_KILL_WITHOUT_GRACE_PERIOD), must show *, 1, 1, *")
@State
public class PercpuRefTryGetLiveKillBroken extends TryGetLiveKill {
    public PercpuRefTryGetLiveKillBroken() {
        super(EnumSet.of(UnsafeVariant.PERCPU_REF_KILL_WITHOUT_GRACE_PERIOD));
    }

    @Actor
    public void cpu0(IIII_Result r) {
        tryGetLive(r);
    }

    @Actor
    public void killer() {
        kill();
    }

    @Arbiter
    public void arbiter(IIII_Result r) {
        check(r);
    }
}
