package dev.gtramp.trampoline;

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
 */
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
