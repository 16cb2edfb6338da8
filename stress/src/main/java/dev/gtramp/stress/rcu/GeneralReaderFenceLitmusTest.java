package dev.gtramp.stress.rcu;

import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

/**
 * {@link ReaderFenceLitmus}, GENERAL flavor, with the real rcu_read_lock, with its full fence.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link ReaderFenceLitmus} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 0, 0}: the reader loaded after the writer's store and the scan saw the reader's store: the two windows overlapped. The gate fails it
 * unless that outcome occurs.
 */
@RacyOutcome("0, 0")
@JCStressTest
@State
public class GeneralReaderFenceLitmusTest extends ReaderFenceLitmus {
    public GeneralReaderFenceLitmusTest() {
        super(RcuFlavor.GENERAL, Set.of());
    }

    @Actor
    public void reader(II_Result r) {
        read(r);
    }

    @Actor
    public void writer(II_Result r) {
        scan(r);
    }

    @Arbiter
    public void arbiter() {
        leave();
    }
}
