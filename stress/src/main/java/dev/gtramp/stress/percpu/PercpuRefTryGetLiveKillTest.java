package dev.gtramp.stress.percpu;

import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

import java.util.Set;

/**
 * {@link TryGetLiveKill} with the real algorithm.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link TryGetLiveKill} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 0, 0, 0, 1}, the interleaving in the
 * middle: CPU 0 found the kill unconfirmed and then {@code tryget_live} found the ref dead, so the
 * kill landed between its two steps. The gate fails it unless that outcome occurs.
 */
@RacyOutcome("0, 0, 0, 1")
@JCStressTest
@State
public class PercpuRefTryGetLiveKillTest extends TryGetLiveKill {
    public PercpuRefTryGetLiveKillTest() {
        super(Set.of());
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
