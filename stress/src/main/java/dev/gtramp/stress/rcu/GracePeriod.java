package dev.gtramp.stress.rcu;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.rcu.RcuFlavor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>{@code synchronize_rcu}: a reader never sees an object freed after a grace period.</b>
 *
 * <pre>
 *   reader (cpu 0)                          writer
 *   rcu_read_lock()                         RCU_INIT_POINTER(gp, NULL)
 *   p = rcu_dereference(gp)                 synchronize_rcu()
 *   r1 = p-&gt;id                              kfree(old)
 *   (hold p)  r2 = p-&gt;freed
 *   rcu_read_unlock()   [QSBR: rcu_qs()]
 * </pre>
 *
 * Object 1 is published before the trial. The writer unpublishes it, waits for a grace period and
 * frees it. For QSBR the reader is online from before the trial and its section ends at its
 * quiescent state; for the general flavor it is delimited by lock and unlock. The race: the reader
 * may load {@code gp} just before the writer clears it, and then hold the object across the writer's
 * grace period.
 *
 * <p>The hazard: if the grace period does not wait for a reader that is inside a section that began
 * before the unpublish, the writer frees the object under it. For the general flavor this is the
 * store-buffering pattern: the reader stores its epoch and then loads {@code gp}, the writer stores
 * {@code gp} and then loads the reader's epoch; without a full fence on both sides each can miss the
 * other's store.
 *
 * <p>Outcomes {@code (r1, r2)}:
 * <ul>
 *   <li>{@code 0, 0}: the reader found {@code gp} already NULL;</li>
 *   <li>{@code 1, 0}: the reader got object 1, and the writer's grace period waited for it;</li>
 *   <li>{@code 1, 1}: FORBIDDEN, the reader's object was freed while it held it (use after free);</li>
 *   <li>{@code 1, 2}: FORBIDDEN, the reader held the object for 5 s and neither a free nor a grace
 *       period waiting for it came.</li>
 * </ul>
 * Paired with {@link QsbrGracePeriodBroken} and {@link GeneralGracePeriodBroken}, which must show
 * {@code 1, 1}. A missing reader fence is store buffering in a window shorter than the writer's
 * path to its scan here; {@link ReaderFenceLitmus} tests it with nothing in the window.
 */
@Description("synchronize_rcu: a reader never sees an object freed after the grace period")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the reader found gp already NULL")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "the reader got object 1; the grace period waited for it")
@Outcome(id = "1, 1", expect = FORBIDDEN, desc = "use after free: object 1 was freed while the reader held it")
@Outcome(id = "1, 2", expect = FORBIDDEN, desc = "stuck: neither a free nor a grace period waiting for the reader")
public abstract class GracePeriod extends ReadSide {

    GracePeriod(RcuFlavor flavor, Set<UnsafeVariant> unsafe) {
        super(flavor, unsafe, true);
    }

    /** The reader. */
    final void read(II_Result r) {
        readOnline(r);
    }

    /** The writer: unpublish, {@code synchronize_rcu()}, free. */
    final void update() {
        gp.clear();
        domain.synchronize();
        old.free();
    }
}
