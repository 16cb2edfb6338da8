package dev.gtramp.stress.percpu;

import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.Set;

/**
 * {@link ReleaseOnce} with the real algorithm.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link ReleaseOnce} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 0, 0, 1}: the only acceptable one;
 * CPU 0 starts its puts on CPU 1's signal that the kill starts, so the two meet in every trial. The
 * gate fails it unless that outcome occurs.
 */
@RacyOutcome("0, 0, 1")
@JCStressTest
@State
public class PercpuRefReleaseOnceTest extends ReleaseOnce {
    public PercpuRefReleaseOnceTest() {
        super(Set.of());
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
