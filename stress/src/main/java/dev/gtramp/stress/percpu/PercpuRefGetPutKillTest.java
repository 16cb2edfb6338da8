package dev.gtramp.stress.percpu;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

/** {@link GetPutKill} with the real algorithm. *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link GetPutKill} and inherited.
 */
@JCStressTest
@State
public class PercpuRefGetPutKillTest extends GetPutKill {
    public PercpuRefGetPutKillTest() {
        super(Set.of());
    }

    @Actor
    public void cpu0(II_Result r) {
        getPut(r);
    }

    @Actor
    public void killer() {
        kill();
    }

    @Arbiter
    public void arbiter(II_Result r) {
        check(r);
    }
}
