package dev.gtramp.stress.gtramp;

import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

/**
 * {@link FentryVsUnlink} with the real algorithm, the v2 series'
 * {@link dev.gtramp.trampoline.KfuncMdFreeProtocol#KILL_THEN_TASKS_RCU}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link FentryVsUnlink} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 0, 0}: the only acceptable one; every
 * trial whose call was preempted in the window while the writer freed (or the trial shows
 * {@code 3, *}) shows it. The gate fails it unless that outcome occurs.
 */
@RacyOutcome("0, 0")
@JCStressTest
@State
public class KfuncMdPutV2FentryTest extends FentryVsUnlink {
    public KfuncMdPutV2FentryTest() {
        super(Set.of());
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
