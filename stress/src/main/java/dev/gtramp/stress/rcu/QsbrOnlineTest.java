package dev.gtramp.stress.rcu;

import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

/**
 * {@link QsbrOnline} with the real algorithm.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link QsbrOnline} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 1, 0}: the reader came online and
 * got object 1 before the unpublish, and the grace period waited for it. The gate fails it unless
 * that outcome occurs.
 */
@RacyOutcome("1, 0")
@JCStressTest
@State
public class QsbrOnlineTest extends QsbrOnline {
    public QsbrOnlineTest() {
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
