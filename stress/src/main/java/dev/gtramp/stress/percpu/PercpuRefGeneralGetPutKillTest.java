package dev.gtramp.stress.percpu;

import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

/**
 * {@link GeneralGetPutKill} with the real algorithm (the general RCU flavor).
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link GetPutKill} and inherited
 * through {@link GeneralGetPutKill}.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 0, 1}: the only acceptable one; CPU
 * 0 gets and puts until the kill and its callbacks are over, so the kill lands among its calls in
 * every trial. The gate fails it unless that outcome occurs.
 */
@RacyOutcome("0, 1")
@JCStressTest
@State
public class PercpuRefGeneralGetPutKillTest extends GeneralGetPutKill {
    public PercpuRefGeneralGetPutKillTest() {
        super(Set.of());
    }

    @Actor
    public void cpu0(II_Result r) {
        getPut(r);
    }

    @Actor
    public void killer() {
        kill();
    }

    @Arbiter
    public void arbiter(II_Result r) {
        check(r);
    }
}
