package dev.gtramp.stress.rcu;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.gate.CaughtBy;
import dev.gtramp.stress.gate.KnownGap;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.EnumSet;

/**
 * {@link GracePeriod}, general flavor, with {@link UnsafeVariant#RCU_READER_NO_FENCE}, broken on
 * purpose: {@code rcu_read_lock} stores its epoch without the full fence, so the grace period's
 * scan can miss a reader that already holds object 1 (store buffering). On x86 this needs the
 * epoch store to stay in the store buffer for the whole of the writer's path from its unpublish to
 * its scan, which is far longer than a store stays there, so it is a listed {@link KnownGap}: the
 * gate runs it and requires its samples, but not its catch. Must show {@code 1, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link GracePeriod} and inherited.
 */
@CaughtBy("1, 1")
@KnownGap("store buffering only: the reader's epoch store must stay in the store buffer for the whole of the"
        + " writer's path from its unpublish to its scan (synchronize_rcu's prologue, about 100 ns even when"
        + " hot), far longer than x86 keeps a store buffered; practically never caught here. To be replaced"
        + " by a litmus test of the fence")
@JCStressTest
@Description("broken on purpose (RCU_READER_NO_FENCE), must show 1, 1")
@State
public class GeneralGracePeriodNoFenceBroken extends GracePeriod {
    public GeneralGracePeriodNoFenceBroken() {
        super(RcuFlavor.GENERAL, EnumSet.of(UnsafeVariant.RCU_READER_NO_FENCE));
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
