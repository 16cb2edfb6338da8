package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.stress.gate.CaughtBy;
import dev.gtramp.trampoline.MultiLinkMode;
import dev.gtramp.trampoline.TrampolinesConfig;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.EnumSet;

/**
 * {@link MultiDetachesVsCall} on the global trampoline with
 * {@link UnsafeVariant#GTRAMP_DETACH_LAST_CHECK_UNLOCKED}, broken on purpose: each detach reads
 * whether its program is f's md's last before it takes {@code global_tr_lock}; when both read it
 * before either unlinked, neither deletes f from the global ops, and f's site still calls
 * {@code bpf_global_caller} after both closes. Must show {@code 0, *, 0}.
 *
 * <p>Its outcomes, the FORBIDDEN ones included, are declared on {@link MultiDetachesVsCall} and
 * inherited.
 */
@CaughtBy("0, .*, 0")
@JCStressTest
@Description("broken on purpose (GTRAMP_DETACH_LAST_CHECK_UNLOCKED), must show 0, *, 0")
@State
public class GtrampMultiDetachLastCheckUnlockedBroken extends MultiDetachesVsCall {
    public GtrampMultiDetachLastCheckUnlockedBroken() {
        super(EnumSet.of(UnsafeVariant.GTRAMP_DETACH_LAST_CHECK_UNLOCKED),
                TrampolinesConfig.global(MultiLinkMode.GLOBAL_HASH));
    }

    @Actor
    public void cpu0(III_Result r) {
        call(r);
    }

    @Actor
    public void writers() {
        write();
    }

    @Arbiter
    public void arbiter(III_Result r) {
        check(r);
    }
}
