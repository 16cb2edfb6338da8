package dev.gtramp.stress.rcu;

import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

/**
 * {@link OfflineDuringScan} with the real algorithm.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link OfflineDuringScan} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 1, 0}: the reader got object 1, its
 * CPU went offline while the grace period's scan was waiting for it, and the grace period went on
 * waiting until its {@code rcu_read_unlock}. The gate fails it unless that outcome occurs.
 */
@RacyOutcome("1, 0")
@JCStressTest
@State
public class GeneralOfflineDuringScanTest extends OfflineDuringScan {
    public GeneralOfflineDuringScanTest() {
        super(Set.of());
    }

    @Actor
    public void reader(II_Result r) {
        read(r);
    }

    @Actor
    public void writer() {
        update();
    }
}
