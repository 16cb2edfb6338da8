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
 * {@link MultiDetachesVsCall} on per-function multi links (upstream
 * {@code bpf_trampoline_multi_detach}) with the real algorithm: each detach holds all 32
 * trampoline locks from the unlink to the ftrace update, so the second finds f's trampoline with its
 * program alone and unregisters the function.
 *
 * <p>Its outcomes, the FORBIDDEN ones included, are declared on {@link MultiDetachesVsCall} and
 * inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 0, 1, 1}: calls of f between the two
 * detaches ran the remaining link's program alone through the trampoline's new image. The gate
 * fails it unless that outcome occurs.
 */
@RacyOutcome("0, 1, 1")
@JCStressTest
@State
public class MultiDetachesVsCallTest extends MultiDetachesVsCall {
    public MultiDetachesVsCallTest() {
        super(Set.of(), TrampolinesConfig.defaults());
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
