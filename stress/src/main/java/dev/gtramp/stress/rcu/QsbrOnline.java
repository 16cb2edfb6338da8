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
 * <b>QSBR {@code rcu_thread_online}: a CPU coming online never sees an object freed under it.</b>
 *
 * <pre>
 *   reader (cpu 0, offline)                 writer
 *   rcu_thread_online()                     RCU_INIT_POINTER(gp, NULL)
 *   p = rcu_dereference(gp)                 synchronize_rcu()
 *   r1 = p-&gt;id                              kfree(old)
 *   (hold p)  r2 = p-&gt;freed
 *   rcu_qs(); rcu_thread_offline()
 * </pre>
 *
 * The reader's CPU is offline (idle) when the trial starts, so grace periods ignore it; it comes
 * online and immediately dereferences {@code gp}. This is store buffering: the reader stores its
 * counter and then loads {@code gp}; the writer stores {@code gp}, advances the grace-period number
 * and then loads the reader's counter. {@code online()} needs a full fence after its store (and the
 * grace period one before its load), or both sides can miss each other's store: the grace period
 * takes the reader for offline while the reader holds object 1.
 *
 * <p>Outcomes {@code (r1, r2)}:
 * <ul>
 *   <li>{@code 0, 0}: the reader came online after the unpublish and found NULL;</li>
 *   <li>{@code 1, 0}: the reader got object 1, and the grace period waited for it;</li>
 *   <li>{@code 1, 1}: FORBIDDEN, object 1 was freed while the reader held it;</li>
 *   <li>{@code 1, 2}: FORBIDDEN, the reader gave up waiting for either.</li>
 * </ul>
 */
@Description("QSBR rcu_thread_online: a CPU coming online never sees an object freed under it")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the reader came online after the unpublish and found NULL")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "the reader got object 1; the grace period waited for it")
@Outcome(id = "1, 1", expect = FORBIDDEN, desc = "use after free: object 1 was freed while the reader held it")
@Outcome(id = "1, 2", expect = FORBIDDEN, desc = "stuck: neither a free nor a grace period waiting for the reader")
public abstract class QsbrOnline extends ReadSide {

    QsbrOnline(Set<UnsafeVariant> unsafe) {
        super(RcuFlavor.QSBR, unsafe, false);
    }

    /** The reader: its CPU comes online, reads, and goes offline again. */
    final void read(II_Result r) {
        cpu.bind();
        cpu.readLock();
        dereferenceAndHold(r);
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
