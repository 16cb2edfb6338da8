package dev.gtramp.stress.gtramp;

import dev.gtramp.stress.gate.RacyOutcome;
import dev.gtramp.trampoline.MultiLinkMode;
import dev.gtramp.trampoline.TrampolinesConfig;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

import java.util.Set;

/**
 * {@link RecreateVsOrigin} on the padding md index, with the real algorithm: A's put pokes NOPs over
 * its {@code mov $slot} and keeps the slot until A's free, so B takes another slot and the
 * function's padding names it; A's free clears only its own slot.
 *
 * <p>Its outcomes, the FORBIDDEN ones included, are declared on {@link RecreateVsOrigin} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 0, 0, 0, 0}: the only acceptable one;
 * the writer replaces the md while CPU 0's call sleeps in the origin holding the old one (or the
 * trial shows {@code 3, *, *, *}), so every trial that shows it raced. The gate fails it unless that
 * outcome occurs.
 */
@RacyOutcome("0, 0, 0, 0")
@JCStressTest
@State
public class KfuncMdRecreateVsOriginPaddingTest extends RecreateVsOrigin {
    public KfuncMdRecreateVsOriginPaddingTest() {
        super(Set.of(), TrampolinesConfig.global(MultiLinkMode.GLOBAL_PADDING));
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
