package dev.gtramp.stress.gtramp;

import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

/**
 * {@link FailedAttachVsCall} with the real algorithm: the attach links B into the mds only after
 * its ftrace update succeeded, so no call runs B.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link FailedAttachVsCall} and
 * inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 5, 1}: calls of f overlapped the
 * failing attaches. The gate fails it unless that outcome occurs.
 */
@RacyOutcome("5, 1")
@JCStressTest
@State
public class GtrampFailedAttachVsCallTest extends FailedAttachVsCall {
    public GtrampFailedAttachVsCallTest() {
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
