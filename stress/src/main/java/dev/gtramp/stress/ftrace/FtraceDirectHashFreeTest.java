package dev.gtramp.stress.ftrace;

import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

/**
 * {@link HashFreeVsCall} with the real algorithm.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link HashFreeVsCall} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 0, 0}: the only acceptable one; CPU
 * 0 calls back to back from before the first of the four table replacements to after the last, so
 * every trial races them. The gate fails it unless that outcome occurs.
 */
@RacyOutcome("0, 0")
@JCStressTest
@State
public class FtraceDirectHashFreeTest extends HashFreeVsCall {
    public FtraceDirectHashFreeTest() {
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
