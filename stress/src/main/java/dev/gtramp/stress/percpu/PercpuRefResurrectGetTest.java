package dev.gtramp.stress.percpu;

import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

import java.util.Set;

/**
 * {@link ResurrectGet} with the real algorithm.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link ResurrectGet} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 0, 0, 1, 1}: a whole kernel call of
 * CPU 0, its {@code tryget_live}, get and puts, ran while the resurrect waited for the kill's switch,
 * and every reference was still counted once. The gate fails it unless that outcome occurs.
 */
@RacyOutcome("0, 0, 1, 1")
@JCStressTest
@State
public class PercpuRefResurrectGetTest extends ResurrectGet {
    public PercpuRefResurrectGetTest() {
        super(Set.of());
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
