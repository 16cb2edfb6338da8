package dev.gtramp.stress.rcu;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.stress.gate.CaughtBy;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.EnumSet;

/**
 * {@link GracePeriodSharing} with {@link UnsafeVariant#RCU_SHARE_STARTED_GRACE_PERIOD}, broken on
 * purpose: a caller that finds a grace period in progress relies on it ({@code rcu_seq_snap}
 * without its "+ 1"), so the late caller frees object 1 while reader y holds it. Must show {@code
 * 1, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link GracePeriodSharing} and inherited.
 */
@CaughtBy("1, 1")
@JCStressTest
@Description("broken on purpose (RCU_SHARE_STARTED_GRACE_PERIOD), must show 1, 1")
@State
public class GracePeriodSharingBroken extends GracePeriodSharing {
    public GracePeriodSharingBroken() {
        super(EnumSet.of(UnsafeVariant.RCU_SHARE_STARTED_GRACE_PERIOD));
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
