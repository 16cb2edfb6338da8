package dev.gtramp.stress.rcu;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.stress.gate.CaughtBy;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.EnumSet;

/**
 * {@link QsbrOnline} with {@link UnsafeVariant#RCU_SCAN_BEFORE_ADVANCE}, broken on purpose: the
 * writer's {@code synchronize_rcu} scans the readers before it advances the grace-period number, so
 * a reader that came online (its counter set to the current number) and took object 1 looks
 * quiescent and sees object 1 freed. The missing fence of {@code rcu_thread_online} is tested by
 * {@link QsbrOnlineNoFenceLitmusBroken}, whose window is short enough for x86 to show it. Must show
 * {@code 1, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link QsbrOnline} and inherited.
 */
@CaughtBy("1, 1")
@JCStressTest
@Description("broken on purpose (RCU_SCAN_BEFORE_ADVANCE), must show 1, 1")
@State
public class QsbrOnlineBroken extends QsbrOnline {
    public QsbrOnlineBroken() {
        super(EnumSet.of(UnsafeVariant.RCU_SCAN_BEFORE_ADVANCE));
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
