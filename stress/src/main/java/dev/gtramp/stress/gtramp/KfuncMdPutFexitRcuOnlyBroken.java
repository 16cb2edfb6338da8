package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.stress.gate.CaughtBy;
import dev.gtramp.trampoline.KfuncMdFreeProtocol;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.EnumSet;

/**
 * {@link UnlinkVsOrigin} with an fexit.multi program and
 * {@link UnsafeVariant#KFUNC_MD_FREE_AFTER_RCU_ONLY}, broken on purpose: the md is freed one RCU grace
 * period after it was unpublished, without the {@code percpu_ref} kill and its wait, under the call
 * sleeping in the origin, which returns to read it. Must show {@code 1, 0, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link UnlinkVsOrigin} and inherited.
 */
@CaughtBy("1, 0, 1")
@JCStressTest
@Description("broken on purpose (KFUNC_MD_FREE_AFTER_RCU_ONLY), must show 1, 0, 1")
@State
public class KfuncMdPutFexitRcuOnlyBroken extends UnlinkVsOrigin {
    public KfuncMdPutFexitRcuOnlyBroken() {
        super(EnumSet.of(UnsafeVariant.KFUNC_MD_FREE_AFTER_RCU_ONLY), KfuncMdFreeProtocol.RCU_THEN_KILL,
                BpfAttachType.TRACE_FEXIT_MULTI);
    }

    @Actor
    public void cpu0(III_Result r) {
        call(r);
    }

    @Actor
    public void writer() {
        write();
    }

    @Arbiter
    public void arbiter(III_Result r) {
        check(r);
    }
}
