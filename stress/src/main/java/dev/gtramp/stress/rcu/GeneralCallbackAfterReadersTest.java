package dev.gtramp.stress.rcu;

import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

/**
 * {@link CallbackAfterReaders} for the general flavor ({@code rcu_preempt}).
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link CallbackAfterReaders} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 0, 0}, the interleaving in the
 * middle: the reader's section began after {@code call_rcu} and the callback had not run before the
 * reader left it. The gate fails it unless that outcome occurs.
 */
@RacyOutcome("0, 0")
@JCStressTest
@State
public class GeneralCallbackAfterReadersTest extends CallbackAfterReaders {
    public GeneralCallbackAfterReadersTest() {
        super(RcuFlavor.GENERAL, Set.of());
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
