package dev.gtramp.stress.ftrace;

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
 * {@link HashFreeVsCall} with {@link UnsafeVariant#DIRECT_HASH_FREE_WITHOUT_TASKS_RCU}, broken on
 * purpose: each del frees the replaced {@code direct_functions} at once instead of after a
 * tasks-RCU grace period, which can be under CPU 0's lookup in the list function. Must show
 * {@code 1, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link HashFreeVsCall} and inherited.
 */
@CaughtBy("1, 1")
@JCStressTest
@Description("broken on purpose (DIRECT_HASH_FREE_WITHOUT_TASKS_RCU), must show 1, 1")
@State
public class FtraceDirectHashFreeBroken extends HashFreeVsCall {
    public FtraceDirectHashFreeBroken() {
        super(EnumSet.of(UnsafeVariant.DIRECT_HASH_FREE_WITHOUT_TASKS_RCU));
    }

    @Actor
    public void cpu0(II_Result r) {
        call(r);
    }

    @Actor
    public void writer() {
        write();
    }

    @Arbiter
    public void arbiter(II_Result r) {
        check(r);
    }
}
