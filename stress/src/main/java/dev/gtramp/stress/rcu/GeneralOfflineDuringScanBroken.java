package dev.gtramp.stress.rcu;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.stress.gate.CaughtBy;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.EnumSet;

/**
 * {@link OfflineDuringScan} with {@link UnsafeVariant#RCU_OFFLINE_DROPS_PREEMPTED_READER}, broken on
 * purpose: the CPU offline clears the slot of the reader that was preempted there, as QSBR's offline
 * clears its counter, so the scan under way takes the reader for quiescent, the grace period ends,
 * and object 1 is freed while the resumed reader holds it. Must show {@code 1, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link OfflineDuringScan} and inherited.
 */
@CaughtBy("1, 1")
@JCStressTest
@Description("broken on purpose (RCU_OFFLINE_DROPS_PREEMPTED_READER), must show 1, 1")
@State
public class GeneralOfflineDuringScanBroken extends OfflineDuringScan {
    public GeneralOfflineDuringScanBroken() {
        super(EnumSet.of(UnsafeVariant.RCU_OFFLINE_DROPS_PREEMPTED_READER));
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
