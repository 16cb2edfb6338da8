package dev.gtramp.stress.percpu;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.Set;

/** {@link ReleaseOnce} with the real algorithm. *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link ReleaseOnce} and inherited.
 */
@JCStressTest
@State
public class PercpuRefReleaseOnceTest extends ReleaseOnce {
    public PercpuRefReleaseOnceTest() {
        super(Set.of());
    }

    @Actor
    public void cpu0(III_Result r) {
        putAll(r);
    }

    @Actor
    public void cpu1(III_Result r) {
        killAndPut(r);
    }

    @Arbiter
    public void arbiter(III_Result r) {
        check(r);
    }
}
