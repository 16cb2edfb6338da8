package dev.gtramp.stress.rcu;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.stress.gate.CaughtBy;
import dev.gtramp.stress.gate.KnownGap;
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
 * GeneralGracePeriodNoFenceBroken}, x86 hardly ever shows it, so it is a listed {@link KnownGap}: the
 * gate runs it and requires its samples, but not its catch. Must show {@code 1, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link QsbrOnline} and inherited.
 */
@CaughtBy("1, 1")
@KnownGap("store buffering only: the reader's counter store in rcu_thread_online must stay in the store"
        + " buffer for the whole of the writer's path from its unpublish to its scan, far longer than x86"
        + " keeps a store buffered; practically never caught here. To be replaced by a litmus test of the"
        + " fence")
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
