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
 * {@link MultiDetachesVsCall} on the global trampoline with the real algorithm: both detaches run
 * under {@code global_tr_lock}, so the second sees its program as the md's last and removes f from
 * the global ops.
 *
 * <p>Its outcomes, the FORBIDDEN ones included, are declared on {@link MultiDetachesVsCall} and
 * inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 0, 1, 1}: calls of f between the two
 * detaches ran the remaining link's program alone from the shared md. The gate fails it unless that
 * outcome occurs.
 */
@RacyOutcome("0, 1, 1")
@JCStressTest
@State
public class GtrampMultiDetachesVsCallTest extends MultiDetachesVsCall {
    public GtrampMultiDetachesVsCallTest() {
        super(Set.of(), TrampolinesConfig.global(MultiLinkMode.GLOBAL_HASH));
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
