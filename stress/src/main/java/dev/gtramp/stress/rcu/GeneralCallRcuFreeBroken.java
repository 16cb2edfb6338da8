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
 * {@link CallRcuFree}, general flavor, with {@link UnsafeVariant#RCU_SKIP_GRACE_PERIOD}, broken on
 * purpose: the callbacks run without a grace period, and the callback frees object 1 under the
 * reader. Must show {@code 1, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link CallRcuFree} and inherited.
 */
@CaughtBy("1, 1")
@JCStressTest
@Description("broken on purpose (RCU_SKIP_GRACE_PERIOD), must show 1, 1")
@State
public class GeneralCallRcuFreeBroken extends CallRcuFree {
    public GeneralCallRcuFreeBroken() {
        super(RcuFlavor.GENERAL, EnumSet.of(UnsafeVariant.RCU_SKIP_GRACE_PERIOD));
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
