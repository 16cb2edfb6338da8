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
 * {@link ModVsCall} with {@link UnsafeVariant#DIRECT_MOD_WITHOUT_STUB_OPS}, broken on purpose: the
 * mod changes {@code direct_functions} in place without the stub ops, so nothing re-patches the site
 * and CPU 0 still runs tramp A after the update returned. Must show {@code *, 0}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link ModVsCall} and inherited.
 */
@CaughtBy(".*, 0")
@JCStressTest
@Description("broken on purpose (DIRECT_MOD_WITHOUT_STUB_OPS), must show *, 0")
@State
public class FtraceDirectModNoStubBroken extends ModVsCall {
    public FtraceDirectModNoStubBroken() {
        super(EnumSet.of(UnsafeVariant.DIRECT_MOD_WITHOUT_STUB_OPS));
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
