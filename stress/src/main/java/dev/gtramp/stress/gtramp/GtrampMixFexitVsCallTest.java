package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

/**
 * {@link MixVsCall} with an fexit.multi M and the real algorithm: the trampoline that takes f over
 * carries M as an exit shim, so a call through either target runs M once.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link MixVsCall} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 5, 1}: a call through the trampoline that crossed an image retire, the move the test is about. The gate fails it
 * unless that outcome occurs.
 */
@RacyOutcome("5, 1")
@JCStressTest
@State
public class GtrampMixFexitVsCallTest extends MixVsCall {
    public GtrampMixFexitVsCallTest() {
        super(Set.of(), BpfAttachType.TRACE_FEXIT_MULTI);
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
