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
 * <b>{@code call_rcu}: an object freed by an RCU callback is never freed under a reader.</b>
 *
 * <pre>
 *   reader (cpu 0)                          writer
 *   rcu_read_lock()                         RCU_INIT_POINTER(gp, NULL)
 *   p = rcu_dereference(gp)                 call_rcu(&amp;old-&gt;rcu, free_old)
 *   r1 = p-&gt;id                              (callback processing: a grace period, then free_old)
 *   (hold p)  r2 = p-&gt;freed
 *   rcu_read_unlock()   [QSBR: rcu_qs()]
 * </pre>
 *
 * The same race as {@link GracePeriod}, with the free deferred to a callback: the writer queues
 * {@code kfree} with {@code call_rcu} and then runs the domain's pending callbacks itself
 * ({@code runPendingCallbacks}, what the callback thread does: one grace period for the batch, then
 * the batch), so no thread is started per trial. The hazard: a callback that runs before the grace
 * period has waited for every reader that might hold the object.
 *
 * <p>Outcomes {@code (r1, r2)}:
 * <ul>
 *   <li>{@code 0, 0}: the reader found {@code gp} already NULL;</li>
 *   <li>{@code 1, 0}: the reader got object 1, and the callback waited for it;</li>
 *   <li>{@code 1, 1}: FORBIDDEN, the callback freed object 1 while the reader held it;</li>
 *   <li>{@code 1, 2}: FORBIDDEN, the reader gave up waiting for either.</li>
 * </ul>
 */
@Description("call_rcu: a callback that frees an object never runs while a reader holds it")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the reader found gp already NULL")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "the reader got object 1; the callback waited for it")
@Outcome(id = "1, 1", expect = FORBIDDEN, desc = "use after free: the callback freed object 1 under the reader")
@Outcome(id = "1, 2", expect = FORBIDDEN, desc = "stuck: neither a free nor a grace period waiting for the reader")
public abstract class CallRcuFree extends ReadSide {

    CallRcuFree(RcuFlavor flavor, Set<UnsafeVariant> unsafe) {
        super(flavor, unsafe, true);
    }

    /** The reader. */
    final void read(II_Result r) {
        readOnline(r);
    }

    /** The writer: unpublish, {@code call_rcu(kfree)}, and process the callbacks. */
    final void update() {
        gp.clear();
        domain.call(old::free);
        domain.runPendingCallbacks();
    }
}
