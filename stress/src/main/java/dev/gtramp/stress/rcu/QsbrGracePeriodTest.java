package dev.gtramp.stress.rcu;

import dev.gtramp.kernel.rcu.RcuFlavor;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

/** {@link GracePeriod} for the QSBR flavor ({@code rcu_sched}). *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link GracePeriod} and inherited.
 */
@JCStressTest
@State
public class QsbrGracePeriodTest extends GracePeriod {
    public QsbrGracePeriodTest() {
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
