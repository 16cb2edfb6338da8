package dev.gtramp.trampoline;

import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.Set;

/**
 * {@link CreateVsCreate} with the real algorithm.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link CreateVsCreate} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 0, 2, 1}: the only acceptable one:
 * the two attaches shared one md. The gate fails it unless that outcome occurs.
 */
@RacyOutcome("0, 2, 1")
@JCStressTest
@State
public class KfuncMdCreateTest extends CreateVsCreate {
    public KfuncMdCreateTest() {
        super(Set.of());
    }

    @Actor
    public void attach1() {
        attachP1();
    }

    @Actor
    public void attach2() {
        attachP2();
    }

    @Arbiter
    public void arbiter(III_Result r) {
        check(r);
    }
}
