package dev.gtramp.stress.kernel;

import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.Set;

/**
 * {@link CloseVsCallbacks} with the real close: both domains drained together before either closes.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link CloseVsCallbacks} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 1, 3, 0}: the operation came first and close had to drain its chain. The gate fails it
 * unless that outcome occurs.
 */
@RacyOutcome("1, 3, 0")
@JCStressTest
@State
public class KernelCloseVsCallbacksTest extends CloseVsCallbacks {
    public KernelCloseVsCallbacksTest() {
        super(Set.of());
    }

    @Actor
    public void detacher() {
        detach();
    }

    @Actor
    public void closer() {
        close();
    }

    @Arbiter
    public void arbiter(III_Result r) {
        check(r);
    }
}
