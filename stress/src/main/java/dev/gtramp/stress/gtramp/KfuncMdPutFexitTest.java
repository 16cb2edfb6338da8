package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.stress.gate.RacyOutcome;
import dev.gtramp.trampoline.KfuncMdFreeProtocol;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.Set;

/**
 * {@link UnlinkVsOrigin} with an fexit.multi program and the real algorithm, the rhashtable
 * version's {@link KfuncMdFreeProtocol#RCU_THEN_KILL}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link UnlinkVsOrigin} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 0, 0, 0}: the only acceptable one;
 * the writer frees the md while CPU 0's call sleeps in the origin (or the trial shows {@code 3, *,
 * *}), so every trial that shows it raced. The gate fails it unless that outcome occurs.
 */
@RacyOutcome("0, 0, 0")
@JCStressTest
@State
public class KfuncMdPutFexitTest extends UnlinkVsOrigin {
    public KfuncMdPutFexitTest() {
        super(Set.of(), KfuncMdFreeProtocol.RCU_THEN_KILL, BpfAttachType.TRACE_FEXIT_MULTI);
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
