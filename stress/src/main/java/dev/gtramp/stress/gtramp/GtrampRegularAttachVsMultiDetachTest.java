package dev.gtramp.stress.gtramp;

import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.Set;

/**
 * {@link RegularAttachVsMultiDetach} with the real algorithm: the regular attach reads f's md under
 * {@code global_tr_lock} and {@code tr->mutex}, which the multi detach holds too, so it takes f
 * over only while the md still has M, and otherwise gives f its own trampoline.
 *
 * <p>Its outcomes, the FORBIDDEN ones included, are declared on {@link RegularAttachVsMultiDetach}
 * and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 0, 1, 1}: the attach took f over
 * from the global caller before the detach, which then dropped M's shim from the trampoline while
 * calls ran. The gate fails it unless that outcome occurs.
 */
@RacyOutcome("0, 1, 1")
@JCStressTest
@State
public class GtrampRegularAttachVsMultiDetachTest extends RegularAttachVsMultiDetach {
    public GtrampRegularAttachVsMultiDetachTest() {
        super(Set.of());
    }

    @Actor
    public void cpu0(III_Result r) {
        call(r);
    }

    @Actor
    public void writers() {
        write();
    }

    @Arbiter
    public void arbiter(III_Result r) {
        check(r);
    }
}
