package dev.gtramp.stress.rcu;

import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.Set;

/**
 * {@link QsbrOfflineDuringScan} with the real algorithm.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link QsbrOfflineDuringScan} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 1, 0, 0}: CPU 0 held object 1 while the
 * grace period's scan waited for it, went offline during the scan, and no later grace period waits
 * for it. The gate fails it unless that outcome occurs.
 */
@RacyOutcome("1, 0, 0")
@JCStressTest
@State
public class QsbrOfflineDuringScanTest extends QsbrOfflineDuringScan {
    public QsbrOfflineDuringScanTest() {
        super(Set.of());
    }

    @Actor
    public void reader(III_Result r) {
        read(r);
    }

    @Actor
    public void writer(III_Result r) {
        update(r);
    }
}
