package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.stress.gate.CaughtBy;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.EnumSet;

/**
 * {@link MixVsCall} with an fexit.multi M and {@link UnsafeVariant#GTRAMP_MIX_DROPS_EXIT_SHIMS}, broken
 * on purpose: the trampoline that takes f over carries only the md's fentry programs as shims, so a
 * call through it runs R and not M. Must show {@code 1, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link MixVsCall} and inherited.
 */
@CaughtBy("1, 1")
@JCStressTest
@Description("broken on purpose (GTRAMP_MIX_DROPS_EXIT_SHIMS), must show 1, 1")
@State
public class GtrampMixDropsExitShimsBroken extends MixVsCall {
    public GtrampMixDropsExitShimsBroken() {
        super(EnumSet.of(UnsafeVariant.GTRAMP_MIX_DROPS_EXIT_SHIMS), BpfAttachType.TRACE_FEXIT_MULTI);
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
