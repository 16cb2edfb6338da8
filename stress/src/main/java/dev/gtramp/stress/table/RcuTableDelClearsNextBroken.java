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
 * {@link ResizeVsLookup} with {@link UnsafeVariant#RCU_TABLE_DEL_CLEARS_NEXT}, broken on purpose: a
 * remove clears the removed node's {@code next} ({@code hlist_del} where {@code hlist_del_rcu} was
 * meant), so a lookup of K standing on the churned neighbour in front of K finds the chain ending
 * there and misses K. Must show {@code 1, 0}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link ResizeVsLookup} and inherited.
 */
@CaughtBy("1, 0")
@JCStressTest
@Description("broken on purpose (RCU_TABLE_DEL_CLEARS_NEXT), must show 1, 0")
@State
public class RcuTableDelClearsNextBroken extends ResizeVsLookup {
    public RcuTableDelClearsNextBroken() {
        super(EnumSet.of(UnsafeVariant.RCU_TABLE_DEL_CLEARS_NEXT));
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
