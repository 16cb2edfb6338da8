package dev.gtramp.stress.rcu;

import dev.gtramp.kernel.UnsafeVariant;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.EnumSet;

/**
 * {@link QsbrOnline} with {@link UnsafeVariant#QSBR_ONLINE_NO_FENCE}, broken on purpose: {@code
 * rcu_thread_online} stores its counter without the full fence, so the grace period's scan can
 * take a reader that already holds object 1 for offline (store buffering). As for {@link
 * GeneralGracePeriodNoFenceBroken}, x86 hardly ever shows it. Must show {@code 1, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link QsbrOnline} and inherited.
 */
@JCStressTest
@Description("broken on purpose (QSBR_ONLINE_NO_FENCE), must show 1, 1")
@State
public class QsbrOnlineNoFenceBroken extends QsbrOnline {
    public QsbrOnlineNoFenceBroken() {
        super(EnumSet.of(UnsafeVariant.QSBR_ONLINE_NO_FENCE));
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
