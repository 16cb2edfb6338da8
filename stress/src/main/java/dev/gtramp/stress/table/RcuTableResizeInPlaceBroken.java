package dev.gtramp.stress.table;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.stress.gate.CaughtBy;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.EnumSet;

/**
 * {@link ResizeVsLookup} with {@link UnsafeVariant#RCU_TABLE_RESIZE_IN_PLACE}, broken on purpose: a
 * resize relinks the existing nodes into the new buckets, so a lookup walking K's old chain follows
 * the node in front of K into its new chain and misses K. Must show {@code 1, 0}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link ResizeVsLookup} and inherited.
 */
@CaughtBy("1, 0")
@JCStressTest
@Description("broken on purpose (RCU_TABLE_RESIZE_IN_PLACE), must show 1, 0")
@State
public class RcuTableResizeInPlaceBroken extends ResizeVsLookup {
    public RcuTableResizeInPlaceBroken() {
        super(EnumSet.of(UnsafeVariant.RCU_TABLE_RESIZE_IN_PLACE));
    }

    @Actor
    public void cpu0(II_Result r) {
        lookups(r);
    }

    @Actor
    public void writer() {
        resizes();
    }

    @Arbiter
    public void arbiter(II_Result r) {
        check(r);
    }
}
