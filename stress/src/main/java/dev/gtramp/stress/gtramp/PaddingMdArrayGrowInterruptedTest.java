package dev.gtramp.stress.gtramp;

import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.Set;

/**
 * {@link GrowVsInterruptedFind} with the real algorithm: growth copies, publishes, and frees the old
 * array after a grace period.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link GrowVsInterruptedFind} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 0, 0, 0}: the only acceptable one; the
 * call read its slot from the array it loaded after the new one was published. The gate fails it
 * unless that outcome occurs.
 */
@RacyOutcome("0, 0, 0")
@JCStressTest
@State
public class PaddingMdArrayGrowInterruptedTest extends GrowVsInterruptedFind {
    public PaddingMdArrayGrowInterruptedTest() {
        super(Set.of());
    }

    @Actor
    public void cpu0(III_Result r) {
        call(r);
    }

    @Actor
    public void writer() {
        write();
    }

    @Arbiter
    public void arbiter(III_Result r) {
        check(r);
    }
}
