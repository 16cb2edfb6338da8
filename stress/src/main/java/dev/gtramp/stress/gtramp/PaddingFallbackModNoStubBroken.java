package dev.gtramp.stress.gtramp;

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
 * {@link FallbackVsCall} with {@link UnsafeVariant#DIRECT_MOD_WITHOUT_STUB_OPS}, broken on purpose:
 * {@code update_ftrace_direct_mod} changes f's entry in place without the stub ops, so nothing
 * re-patches f's site, which keeps calling the fallback trampoline's old image: calls after L2's
 * attach run A and not B, and the close of L2 finds the site calling the old image and fails
 * ({@code ftrace_bug}). Must show {@code 1, 2}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link FallbackVsCall} and inherited.
 */
@CaughtBy("1, 2")
@JCStressTest
@Description("broken on purpose (DIRECT_MOD_WITHOUT_STUB_OPS), must show 1, 2")
@State
public class PaddingFallbackModNoStubBroken extends FallbackVsCall {
    public PaddingFallbackModNoStubBroken() {
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
