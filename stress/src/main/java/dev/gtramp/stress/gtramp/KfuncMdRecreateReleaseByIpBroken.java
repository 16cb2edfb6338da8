package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.stress.gate.CaughtBy;
import dev.gtramp.trampoline.KfuncMdTableKind;
import dev.gtramp.trampoline.MultiLinkMode;
import dev.gtramp.trampoline.TrampolinesConfig;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

import java.util.EnumSet;

/**
 * {@link RecreateVsOrigin} on the hash md table with {@link UnsafeVariant#KFUNC_MD_RELEASE_REMOVES_BY_IP},
 * broken on purpose: A's free, once the sleeping call dropped A's last reference, deletes the table's
 * entry for f's ip, which by then is B's. The call itself finished on A; the next call finds no md
 * and runs none of B's programs (B lost), while B's link is still attached; closing it later frees B
 * cleanly. Must show {@code 0, 0, 1, 0}.
 *
 * <p>Its outcomes, the FORBIDDEN ones included, are declared on {@link RecreateVsOrigin} and inherited.
 */
@CaughtBy("0, 0, 1, 0")
@JCStressTest
@Description("broken on purpose (KFUNC_MD_RELEASE_REMOVES_BY_IP), must show 0, 0, 1, 0")
@State
public class KfuncMdRecreateReleaseByIpBroken extends RecreateVsOrigin {
    public KfuncMdRecreateReleaseByIpBroken() {
        super(EnumSet.of(UnsafeVariant.KFUNC_MD_RELEASE_REMOVES_BY_IP),
                TrampolinesConfig.global(MultiLinkMode.GLOBAL_HASH).withMdTable(KfuncMdTableKind.RCU_HASH_TABLE));
    }

    @Actor
    public void cpu0(IIII_Result r) {
        call(r);
    }

    @Actor
    public void writer() {
        write();
    }

    @Arbiter
    public void arbiter(IIII_Result r) {
        check(r);
    }
}
