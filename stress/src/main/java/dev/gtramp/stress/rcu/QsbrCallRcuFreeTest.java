package dev.gtramp.stress.rcu;

import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

/**
 * {@link CallRcuFree} for the QSBR flavor ({@code rcu_sched}).
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link CallRcuFree} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 1, 0}: the reader got object 1
 * before the unpublish and held it while the callback processing waited for it. The gate fails it
 * unless that outcome occurs.
 */
@RacyOutcome("1, 0")
@JCStressTest
@State
public class QsbrCallRcuFreeTest extends CallRcuFree {
    public QsbrCallRcuFreeTest() {
        super(RcuFlavor.QSBR, Set.of());
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
