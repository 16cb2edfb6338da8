package dev.gtramp.stress.rcu;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.RcuObject;
import dev.gtramp.stress.TrialDomain;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>General (preemptible) RCU: the CPU of a reader preempted in its section goes offline during a
 * grace-period scan, and the reader resumes on another CPU; the grace period still waits for it.</b>
 *
 * <pre>
 *   reader (a task on cpu 0)                writer
 *   rcu_read_lock()                         RCU_INIT_POINTER(gp, NULL)
 *   p = rcu_dereference(gp)                 synchronize_rcu()
 *   r1 = p-&gt;id                                (the scan waits for the reader: a stall warning)
 *   (wait until the scan waits for it)
 *   preempted; cpu 0 goes offline
 *   resumes on a CPU that comes online
 *   (hold p)  r2 = p-&gt;freed                 kfree(old)
 *   rcu_read_unlock()
 * </pre>
 *
 * Under preemptible RCU a read-side section belongs to the task, not to the CPU: a task preempted
 * inside one is queued on its {@code rcu_node}'s blocked-tasks list, and a CPU going offline
 * ({@code rcu_report_dead}) reports a quiescent state only for itself, handing its blocked readers
 * over. In the model the general flavor's reader word (its slot: the epoch its outermost lock saw)
 * is the task's, and {@code offline()} of the CPU it ran on leaves it alone. The reader takes object
 * 1 and holds it until the writer's grace period is seen waiting for it (the scan under way); then
 * its CPU goes offline under it and it resumes on another CPU, and it holds object 1 until it is
 * freed (the hazard) or {@link TrialDomain#HOLD_AFTER_STALL_NANOS} pass, well past the scan's next
 * look at the reader. A CPU offline that clears the slot makes the scan take the reader for
 * quiescent: the grace period ends and object 1 is freed while the reader still holds it.
 *
 * <p>Outcomes {@code (r1, r2)}:
 * <ul>
 *   <li>{@code 0, 0}: the reader came after the unpublish and found NULL;</li>
 *   <li>{@code 1, 0}: the reader held object 1 across its CPU's offline, and the grace period waited for it;</li>
 *   <li>{@code 1, 1}: FORBIDDEN, object 1 was freed while the reader held it;</li>
 *   <li>{@code 1, 2}: FORBIDDEN, no grace period was seen waiting for the reader within 5 s.</li>
 * </ul>
 */
@Description("general RCU: a reader's CPU going offline during a grace-period scan never ends the grace period early")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the reader came after the unpublish and found NULL")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "held object 1 across its CPU's offline; the grace period waited")
@Outcome(id = "1, 1", expect = FORBIDDEN, desc = "use after free: object 1 was freed while the reader held it")
@Outcome(id = "1, 2", expect = FORBIDDEN, desc = "stuck: no grace period was seen waiting for the reader")
public abstract class OfflineDuringScan extends ReadSide {

    OfflineDuringScan(Set<UnsafeVariant> unsafe) {
        super(RcuFlavor.GENERAL, unsafe, false);
    }

    /** The reader: reads, is preempted while its CPU goes offline during the scan, resumes and holds. */
    final void read(II_Result r) {
        cpu.bind();
        cpu.readLock();
        RcuObject p = gp.dereference();
        if (p != null) {
            r.r1 = p.id();
            if (!TrialDomain.await(() -> p.isFreed() || domain.stallWarnings() > 0)) {
                r.r2 = 2;
            } else {
                // Preempted inside the section; its CPU goes offline, and it resumes elsewhere.
                cpu.unbind();
                cpu.bind();
                boolean settled = domain.linger(p::isFreed, 1);
                r.r2 = !settled ? 2 : p.isFreed() ? 1 : 0;
            }
        }
        cpu.readUnlock();
        cpu.unbind();
    }

    /** The writer: unpublish, {@code synchronize_rcu()}, free. */
    final void update() {
        gp.clear();
        domain.synchronize();
        old.free();
    }
}
