package dev.gtramp.stress.trampoline;

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
 */
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
