package dev.gtramp.stress.gtramp;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

/**
 * {@link MixVsCall} with the real algorithm: each move is one {@code update_ftrace_direct_mod}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link MixVsCall} and inherited.
 */
@JCStressTest
@State
public class GtrampMixVsCallTest extends MixVsCall {
    public GtrampMixVsCallTest() {
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
