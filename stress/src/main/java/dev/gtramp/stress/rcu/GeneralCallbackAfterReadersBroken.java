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
 * {@link CallbackAfterReaders}, general flavor, with {@link UnsafeVariant#RCU_EPOCH_CHECK_OFF_BY_ONE},
 * broken on purpose: the grace-period check takes a reader whose epoch is the one before the
 * advance for quiescent, so the callback runs inside the section of a reader that locked before
 * {@code call_rcu}. Must show {@code 1, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link CallbackAfterReaders} and inherited.
 */
@CaughtBy("1, 1")
@JCStressTest
@Description("broken on purpose (RCU_EPOCH_CHECK_OFF_BY_ONE), must show 1, 1")
@State
public class GeneralCallbackAfterReadersBroken extends CallbackAfterReaders {
    public GeneralCallbackAfterReadersBroken() {
        super(RcuFlavor.GENERAL, EnumSet.of(UnsafeVariant.RCU_EPOCH_CHECK_OFF_BY_ONE));
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
