package dev.gtramp.stress.trampoline;

import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

/**
 * {@link ImageSwapVsOrigin} with the real algorithm.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link ImageSwapVsOrigin} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 0, 0}: the only acceptable one; the
 * writer swaps and frees the image while CPU 0's call sleeps in the origin (or the trial shows
 * {@code 3, *}), so every trial that shows it raced. The gate fails it unless that outcome occurs.
 */
@RacyOutcome("0, 0")
@JCStressTest
@State
public class TrampImagePutTest extends ImageSwapVsOrigin {
    public TrampImagePutTest() {
        super(Set.of());
    }

    @Actor
    public void cpu0(II_Result r) {
        call(r);
    }

    @Actor
    public void writer(II_Result r) {
        write(r);
    }

    @Arbiter
    public void arbiter(II_Result r) {
        check(r);
    }
}
