package dev.gtramp.stress.rcu;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.gate.CaughtBy;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.EnumSet;

/**
 * {@link ReaderFenceLitmus} with {@link UnsafeVariant#QSBR_ONLINE_NO_FENCE}, broken on purpose: rcu_thread_online stores its counter without the full fence,
 * so the reader's load of {@code gp} can pass its own store while the writer's scan loads the
 * reader's word before that store drains (store buffering, routine on x86 in a window this short).
 * Must show {@code 1, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link ReaderFenceLitmus} and inherited.
 */
@CaughtBy("1, 1")
@JCStressTest
@Description("broken on purpose (QSBR_ONLINE_NO_FENCE), must show 1, 1")
@State
public class QsbrOnlineNoFenceLitmusBroken extends ReaderFenceLitmus {
    public QsbrOnlineNoFenceLitmusBroken() {
        super(RcuFlavor.QSBR, EnumSet.of(UnsafeVariant.QSBR_ONLINE_NO_FENCE));
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
