package dev.gtramp.stress.gtramp;

import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

/**
 * {@link FallbackVsCall} with the real algorithm.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link FallbackVsCall} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 0, 1}: calls overlapped the updates of
 * f's fallback trampoline, and each ran the attached programs once. The gate fails it unless that
 * outcome occurs.
 */
@RacyOutcome("0, 1")
@JCStressTest
@State
public class PaddingFallbackVsCallTest extends FallbackVsCall {
    public PaddingFallbackVsCallTest() {
        super(Set.of());
    }

    @Actor
    public void cpu0(II_Result r) {
        call(r);
    }

    @Actor
    public void writer() {
        write();
    }

    @Arbiter
    public void arbiter(II_Result r) {
        check(r);
    }
}
