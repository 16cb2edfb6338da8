package dev.gtramp.stress.gtramp;

import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

/**
 * {@link GrowVsCall} with the real algorithm: growth fills the new array before publishing it.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link GrowVsCall} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 0, 0}: calls overlapped the attach
 * that grew the array, and each found its md. The gate fails it unless that outcome occurs.
 */
@RacyOutcome("0, 0")
@JCStressTest
@State
public class PaddingMdArrayGrowTest extends GrowVsCall {
    public PaddingMdArrayGrowTest() {
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
