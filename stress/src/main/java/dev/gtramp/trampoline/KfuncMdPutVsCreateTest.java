package dev.gtramp.trampoline;

import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

/**
 * {@link PutVsCreate} with the real algorithm.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link PutVsCreate} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 0, 0}: the only acceptable one: the
 * attach holds a live md whichever of the put and the create came first. The gate fails it unless
 * that outcome occurs.
 */
@RacyOutcome("0, 0")
@JCStressTest
@State
public class KfuncMdPutVsCreateTest extends PutVsCreate {
    public KfuncMdPutVsCreateTest() {
        super(Set.of());
    }

    @Actor
    public void detacher() {
        detach();
    }

    @Actor
    public void attacher() {
        attach();
    }

    @Arbiter
    public void arbiter(II_Result r) {
        check(r);
    }
}
