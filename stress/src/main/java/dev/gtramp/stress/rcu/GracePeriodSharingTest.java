package dev.gtramp.stress.rcu;

import dev.gtramp.stress.gate.RacyOutcome;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

/**
 * {@link GracePeriodSharing} with the real algorithm.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link GracePeriodSharing} and inherited.
 *
 * <p>Its racy outcome, the interleaving it is about, is {@code 0, 2}: the only acceptable one; the
 * late caller calls {@code synchronize_rcu} while G1 is under way (or the trial shows {@code 3,
 * *}), so every trial that shows it raced. The gate fails it unless that outcome occurs.
 */
@RacyOutcome("0, 2")
@JCStressTest
@State
public class GracePeriodSharingTest extends GracePeriodSharing {
    public GracePeriodSharingTest() {
        super(Set.of());
    }

    @Actor
    public void earlyCaller(II_Result r) {
        runEarly(r);
    }

    @Actor
    public void lateCaller() {
        runLate();
    }

    @Arbiter
    public void arbiter(II_Result r) {
        count(r);
    }
}
