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
 * {@link ResizeVsLookup} with {@link UnsafeVariant#RCU_TABLE_FREE_ARRAY_AT_ONCE}, broken on purpose:
 * a resize frees the replaced bucket array at once ({@code kfree} where {@code kfree_rcu} was meant),
 * so an array is freed while CPU 0 may still be walking it. The lookup's guard then reports a use after free
 * ({@code 2, 1}), or the poisoned heads end its walk before K ({@code 1, 0}). Must show either.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link ResizeVsLookup} and inherited.
 */
@CaughtBy({"2, 1", "1, 0"})
@JCStressTest
@Description("broken on purpose (RCU_TABLE_FREE_ARRAY_AT_ONCE), must show 2, 1 or 1, 0")
@State
public class RcuTableFreeArrayAtOnceBroken extends ResizeVsLookup {
    public RcuTableFreeArrayAtOnceBroken() {
        super(EnumSet.of(UnsafeVariant.RCU_TABLE_FREE_ARRAY_AT_ONCE));
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
