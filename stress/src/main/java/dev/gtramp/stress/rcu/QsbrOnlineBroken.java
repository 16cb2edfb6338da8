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
 * {@link QsbrOnline} with {@link UnsafeVariant#RCU_SKIP_GRACE_PERIOD}, broken on purpose: the writer's
 * {@code synchronize_rcu} returns without waiting, so a reader that came online and took object 1
 * sees it freed. This is the variant the test must catch in every bounded run; the missing-fence
 * variant ({@link QsbrOnlineNoFenceBroken}) is the one x86 hardly ever shows. Must show {@code 1, 1}.
 *
 * <p>Its outcomes, the FORBIDDEN one included, are declared on {@link QsbrOnline} and inherited.
 */
@CaughtBy("1, 1")
@JCStressTest
@Description("broken on purpose (RCU_SKIP_GRACE_PERIOD), must show 1, 1")
@State
public class QsbrOnlineBroken extends QsbrOnline {
    public QsbrOnlineBroken() {
        super(EnumSet.of(UnsafeVariant.RCU_SKIP_GRACE_PERIOD));
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
