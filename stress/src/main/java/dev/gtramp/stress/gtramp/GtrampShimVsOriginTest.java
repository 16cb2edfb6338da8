package dev.gtramp.stress.gtramp;

import dev.gtramp.stress.gate.RacyOutcome;
import dev.gtramp.trampoline.MultiLinkMode;
import dev.gtramp.trampoline.TrampolinesConfig;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.Set;

/**
 * {@link ShimVsOrigin} on the global trampoline (the hash table of {@code kfunc_md}s): the multi
 * program joins f's trampoline as a shim of f's md, the trampoline marked {@code BPF_TRAMP_F_MIX}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link ShimVsOrigin} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 0, 0, 0}: the only acceptable one;
 * every trial whose call slept in the origin while the writer joined and left (or the trial shows
 * {@code 3, *, *}) shows it. The gate fails it unless that outcome occurs.
 */
@RacyOutcome("0, 0, 0")
@JCStressTest
@State
public class GtrampShimVsOriginTest extends ShimVsOrigin {
    public GtrampShimVsOriginTest() {
        super(Set.of(), TrampolinesConfig.global(MultiLinkMode.GLOBAL_HASH));
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
