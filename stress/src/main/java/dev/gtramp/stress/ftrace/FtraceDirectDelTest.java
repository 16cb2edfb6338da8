package dev.gtramp.stress.ftrace;

import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

/**
 * {@link DelVsCall} with the real algorithm.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link DelVsCall} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 1, 1}: CPU 0's calls ran tramp A and
 * then the body: they straddled the patching of the site. The gate fails it unless that outcome
 * occurs.
 */
@RacyOutcome("1, 1")
@JCStressTest
@State
public class FtraceDirectDelTest extends DelVsCall {
    public FtraceDirectDelTest() {
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
