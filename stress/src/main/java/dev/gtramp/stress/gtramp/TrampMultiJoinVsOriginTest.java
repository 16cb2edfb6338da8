package dev.gtramp.stress.gtramp;

import dev.gtramp.stress.gate.RacyOutcome;
import dev.gtramp.trampoline.TrampolinesConfig;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.Set;

/**
 * {@link ShimVsOrigin} on per-function trampolines with the single direct ops (upstream): the multi
 * link's node joins f's trampoline ({@code bpf_trampoline_multi_attach}).
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
public class TrampMultiJoinVsOriginTest extends ShimVsOrigin {
    public TrampMultiJoinVsOriginTest() {
        super(Set.of(), TrampolinesConfig.defaults());
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
