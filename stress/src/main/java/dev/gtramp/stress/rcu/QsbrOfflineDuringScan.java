package dev.gtramp.stress.rcu;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.RcuObject;
import dev.gtramp.stress.TrialDomain;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>QSBR: a CPU that goes offline during a grace-period scan ends its part in that grace period
 * and in every later one; the object it held is freed only after it left.</b>
 *
 * <pre>
 *   reader (cpu 0, offline)                 writer
 *   cpu 0 comes online                      RCU_INIT_POINTER(gp, NULL)
 *   p = rcu_dereference(gp); r1 = p-&gt;id      synchronize_rcu()
 *   (hold p until the scan waits for cpu 0,    (the scan waits for cpu 0: a stall warning)
 *    or the grace period is over)
 *   r2 = p-&gt;freed                           kfree(old)
 *   cpu 0 goes offline (rcu_report_dead)
 *                                           (once cpu 0 is offline)
 *                                           r3 = a grace period started now waits for cpu 0
 * </pre>
 *
 * CPU 0 comes online and takes object 1 unless the unpublish came first; it holds it (the QSBR
 * read-side section is the whole time the CPU is online, with no quiescent state) until the
 * writer's grace period is seen waiting for it, or is over, and then goes offline instead of
 * reporting a quiescent state, as a CPU that is unplugged in the middle of a grace period does. Its
 * offline is what lets the grace period end; after it the CPU is in an extended quiescent state
 * (counter 0) that no later grace period waits for. The writer then looks, once CPU 0 is offline,
 * whether a grace period started now could end ({@code AbstractRcu.scanReadersOnce}: one scan with
 * the next grace period's target, no wait). An offline that reports a quiescent state instead
 * (counter set to the current number) satisfies the grace period under way but leaves the CPU
 * looking like an online CPU that has not yet passed the next one: every later grace period waits
 * for the offline CPU for ever.
 *
 * <p>Outcomes {@code (r1, r2, r3)}:
 * <ul>
 *   <li>{@code 0, 0, 0}: CPU 0 came after the unpublish and found NULL;</li>
 *   <li>{@code 1, 0, 0}: CPU 0 held object 1 until it went offline during the scan; the grace
 *       period ended after that, and a later one does not wait for the offline CPU;</li>
 *   <li>{@code *, *, 1}: FORBIDDEN, a later grace period would wait for the offline CPU for ever;</li>
 *   <li>{@code 1, 1, *}: FORBIDDEN, object 1 was freed while CPU 0 was online holding it;</li>
 *   <li>anything else: FORBIDDEN (stuck: {@code r2 = 2}, CPU 0 saw neither a grace period waiting for
 *       it nor its end within 5 s; {@code r3 = 2}, CPU 0 never went offline).</li>
 * </ul>
 */
@Description("QSBR: a CPU going offline during a grace-period scan is waited for by no later grace period")
@Outcome(id = "0, 0, 0", expect = ACCEPTABLE, desc = "CPU 0 came after the unpublish and found NULL")
@Outcome(id = "1, 0, 0", expect = ACCEPTABLE, desc = "held object 1 until its offline during the scan; no later wait")
@Outcome(id = ".*, 1", expect = FORBIDDEN, desc = "a later grace period would wait for the offline CPU for ever")
@Outcome(id = "1, 1, .*", expect = FORBIDDEN, desc = "use after free: object 1 was freed while CPU 0 held it")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "stuck: CPU 0 waited 5 s (r2 = 2), or never went offline (r3 = 2)")
public abstract class QsbrOfflineDuringScan extends ReadSide {
    /** Set by the writer once its grace period and free are over. */
    volatile boolean gpDone;
    /** Set by CPU 0 once it is offline. */
    volatile boolean offline;

    QsbrOfflineDuringScan(Set<UnsafeVariant> unsafe) {
        super(RcuFlavor.QSBR, unsafe, false);
    }

    /** CPU 0: comes online, reads, holds, and goes offline while the writer's scan waits for it. */
    final void read(III_Result r) {
        cpu.bind();
        RcuObject p = gp.dereference();
        if (p != null) {
            r.r1 = p.id();
        }
        boolean settled = TrialDomain.await(() -> gpDone || domain.stallWarnings() > 0 || p != null && p.isFreed());
        if (!settled) {
            r.r2 = 2;
        } else if (p != null && p.isFreed()) {
            r.r2 = 1;
        }
        cpu.unbind();
        offline = true;
    }

    /** The writer: unpublish, {@code synchronize_rcu()}, free; then whether a later grace period waits for CPU 0. */
    final void update(III_Result r) {
        gp.clear();
        domain.synchronize();
        old.free();
        gpDone = true;
        if (!TrialDomain.await(() -> offline)) {
            r.r3 = 2;
        } else {
            r.r3 = domain.scanReadersOnce() ? 0 : 1;
        }
    }
}
