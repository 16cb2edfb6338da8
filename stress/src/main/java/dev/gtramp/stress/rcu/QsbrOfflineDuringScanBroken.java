package dev.gtramp.stress.rcu;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.stress.gate.CaughtBy;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.EnumSet;

/**
 * {@link QsbrOfflineDuringScan} with {@link UnsafeVariant#QSBR_OFFLINE_REPORTS_QS}, broken on
 * purpose: CPU 0's offline reports a quiescent state (its counter set to the current grace-period
 * number) instead of clearing its counter, so the grace period under way ends, but a grace period
 * started after it would wait for the offline CPU for ever. Must show {@code *, *, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link QsbrOfflineDuringScan} and inherited.
 */
@CaughtBy(".*, .*, 1")
@JCStressTest
@Description("broken on purpose (QSBR_OFFLINE_REPORTS_QS), must show *, *, 1")
@State
public class QsbrOfflineDuringScanBroken extends QsbrOfflineDuringScan {
    public QsbrOfflineDuringScanBroken() {
        super(EnumSet.of(UnsafeVariant.QSBR_OFFLINE_REPORTS_QS));
    }

    @Actor
    public void reader(III_Result r) {
        read(r);
    }

    @Actor
    public void writer(III_Result r) {
        update(r);
    }
}
