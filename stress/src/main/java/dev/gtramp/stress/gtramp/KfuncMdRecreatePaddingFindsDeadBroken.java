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
import org.openjdk.jcstress.infra.results.IIII_Result;

import java.util.EnumSet;

/**
 * {@link RecreateVsOrigin} on the padding md index with {@link UnsafeVariant#PADDING_MD_LOOKUP_FINDS_DEAD},
 * broken on purpose: link b's {@code kfunc_md_create} scans the slots for f, finds the retiring A in
 * the slot it keeps until its free, and revives it instead of creating B. Prog b joins the killed A
 * and runs in the sleeping call, which held A before link b existed (wrong program); the call's put
 * frees A with prog b on it and f's padding still NOPs, so the next call runs no program (B lost),
 * and closing link b reads the freed A (KASAN). Must show {@code 0, 1, 1, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN ones included, are declared on {@link RecreateVsOrigin} and inherited.
 */
@CaughtBy("0, 1, 1, 1")
@JCStressTest
@Description("broken on purpose (PADDING_MD_LOOKUP_FINDS_DEAD), must show 0, 1, 1, 1")
@State
public class KfuncMdRecreatePaddingFindsDeadBroken extends RecreateVsOrigin {
    public KfuncMdRecreatePaddingFindsDeadBroken() {
        super(EnumSet.of(UnsafeVariant.PADDING_MD_LOOKUP_FINDS_DEAD), TrampolinesConfig.global(MultiLinkMode.GLOBAL_PADDING));
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
