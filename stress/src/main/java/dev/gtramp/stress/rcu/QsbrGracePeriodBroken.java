package dev.gtramp.stress.rcu;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.gate.CaughtBy;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.EnumSet;

/**
 * {@link GracePeriod}, QSBR flavor, with {@link UnsafeVariant#RCU_SCAN_BEFORE_ADVANCE}, broken on
 * purpose: {@code synchronize_rcu} scans the readers before it advances the grace-period number, so
 * the online reader's counter already matches, and the writer frees object 1 under the reader.
 * Must show {@code 1, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link GracePeriod} and inherited.
 */
@CaughtBy("1, 1")
@JCStressTest
@Description("broken on purpose (RCU_SCAN_BEFORE_ADVANCE), must show 1, 1")
@State
public class QsbrGracePeriodBroken extends GracePeriod {
    public QsbrGracePeriodBroken() {
        super(RcuFlavor.QSBR, EnumSet.of(UnsafeVariant.RCU_SCAN_BEFORE_ADVANCE));
    }

    @Actor
    public void reader(II_Result r) {
        read(r);
    }

    @Actor
    public void writer() {
        update();
    }
}
