package dev.gtramp.stress.table;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

/**
 * {@link ResizeVsLookup} with the real algorithm.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link ResizeVsLookup} and inherited.
 */
@JCStressTest
@State
public class RcuTableResizeTest extends ResizeVsLookup {
    public RcuTableResizeTest() {
        super(Set.of());
    }

    @Actor
    public void cpu0(II_Result r) {
        lookups(r);
    }

    @Actor
    public void writer() {
        resizes();
    }

    @Arbiter
    public void arbiter(II_Result r) {
        check(r);
    }
}
