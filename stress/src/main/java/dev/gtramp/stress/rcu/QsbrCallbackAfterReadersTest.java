package dev.gtramp.stress.rcu;

import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

/**
 * {@link CallbackAfterReaders} for the QSBR flavor ({@code rcu_sched}).
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link CallbackAfterReaders} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 1, 0}: the only one QSBR allows: the
 * reader is online from before the trial, so its section is always pre-existing and the callback
 * always waits for it. The gate fails it unless that outcome occurs.
 */
@RacyOutcome("1, 0")
@JCStressTest
@State
public class QsbrCallbackAfterReadersTest extends CallbackAfterReaders {
    public QsbrCallbackAfterReadersTest() {
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
