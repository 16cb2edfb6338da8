package dev.gtramp.stress.gtramp;

import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

/**
 * {@link MixVsCall} with the real algorithm: each move is one {@code update_ftrace_direct_mod}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link MixVsCall} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 0, 1}: the only acceptable one; CPU
 * 0 calls back to back through all six moves, so every trial races them. The gate fails it unless
 * that outcome occurs.
 */
@RacyOutcome("0, 1")
@JCStressTest
@State
public class GtrampMixVsCallTest extends MixVsCall {
    public GtrampMixVsCallTest() {
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
