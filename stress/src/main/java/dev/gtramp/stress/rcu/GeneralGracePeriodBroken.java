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
 * {@link GracePeriod}, general flavor, with {@link UnsafeVariant#RCU_EPOCH_CHECK_OFF_BY_ONE}, broken on
 * purpose: {@code synchronize_rcu} takes a reader whose epoch is the one before the advance for
 * quiescent ({@code >=} against the old epoch where {@code >} was meant), so it does not wait for
 * a reader that locked before the unpublish, and the writer frees object 1 under it. Must show
 * {@code 1, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link GracePeriod} and inherited.
 */
@CaughtBy("1, 1")
@JCStressTest
@Description("broken on purpose (RCU_EPOCH_CHECK_OFF_BY_ONE), must show 1, 1")
@State
public class GeneralGracePeriodBroken extends GracePeriod {
    public GeneralGracePeriodBroken() {
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
