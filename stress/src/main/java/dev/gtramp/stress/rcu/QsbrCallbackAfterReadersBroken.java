package dev.gtramp.stress.rcu;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.gate.CaughtBy;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.EnumSet;

/**
 * {@link CallbackAfterReaders}, QSBR flavor, with {@link UnsafeVariant#RCU_SCAN_BEFORE_ADVANCE},
 * broken on purpose: the batch's grace period scans the readers before it advances the grace-period
 * number, so the online reader's counter already matches and the callback runs inside its
 * section. Must show {@code 1, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link CallbackAfterReaders} and inherited.
 */
@CaughtBy("1, 1")
@JCStressTest
@Description("broken on purpose (RCU_SCAN_BEFORE_ADVANCE), must show 1, 1")
@State
public class QsbrCallbackAfterReadersBroken extends CallbackAfterReaders {
    public QsbrCallbackAfterReadersBroken() {
        super(RcuFlavor.QSBR, EnumSet.of(UnsafeVariant.RCU_SCAN_BEFORE_ADVANCE));
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
