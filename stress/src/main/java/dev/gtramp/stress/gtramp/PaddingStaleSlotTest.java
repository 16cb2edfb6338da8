package dev.gtramp.stress.gtramp;

import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.Set;

/**
 * {@link StaleSlotVsReuse} with the real algorithm: a slot is free again only when its md is freed.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link StaleSlotVsReuse} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 0, 0, 0}: the only acceptable one; the
 * call read slot {@code s} after {@code f}'s NOPs and {@code g}'s attach, and found {@code f}'s md.
 * The gate fails it unless that outcome occurs.
 */
@RacyOutcome("0, 0, 0")
@JCStressTest
@State
public class PaddingStaleSlotTest extends StaleSlotVsReuse {
    public PaddingStaleSlotTest() {
        super(Set.of());
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
