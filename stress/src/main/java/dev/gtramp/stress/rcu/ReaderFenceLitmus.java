package dev.gtramp.stress.rcu;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.kernel.rcu.RcuReader;
import dev.gtramp.stress.RcuObject;
import dev.gtramp.stress.RcuPointer;
import dev.gtramp.stress.TrialCpu;
import dev.gtramp.stress.TrialDomain;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>The reader's fence, as a litmus test: a reader entering its section and a grace period's scan
 * never miss each other.</b>
 *
 * <pre>
 *   reader (cpu 0)                          writer
 *   general: rcu_read_lock()                RCU_INIT_POINTER(gp, NULL)
 *     (slot = epoch; smp_mb())              smp_mb()
 *   QSBR: rcu_thread_online()               r2 = every reader quiescent?
 *     (ctr = gp; smp_mb())                    (one scan of the readers' words)
 *   r1 = rcu_dereference(gp) != NULL
 *   (stays in the section until the arbiter)
 * </pre>
 *
 * This is store buffering, with nothing else in the window: the reader stores its word and loads
 * {@code gp}; the writer stores {@code gp} and loads the reader's word. The reader's full fence (in
 * {@code rcu_read_lock} for the general flavor, in {@code rcu_thread_online} for QSBR) and the
 * grace period's full fence before its scan forbid both loads from missing the other side's store.
 * The reader stays in its section (online) until the arbiter, so a scan that takes it for quiescent
 * while it holds object 1 is the use after free a full grace period would have led to.
 *
 * <p>The tests that run the whole grace period ({@link GracePeriod}, {@link QsbrOnline}) cannot
 * show a missing reader fence on x86: the writer's path from its unpublish to the scan is longer
 * than a store stays in a store buffer. Here it is one fence.
 *
 * <p>Outcomes {@code (r1, r2)}:
 * <ul>
 *   <li>{@code 0, 0}: the reader found {@code gp} NULL, and the scan saw the reader inside;</li>
 *   <li>{@code 0, 1}: the reader found NULL, and the scan came before the reader's store;</li>
 *   <li>{@code 1, 0}: the reader got object 1, and the scan saw it inside (a grace period would wait);</li>
 *   <li>{@code 1, 1}: FORBIDDEN, the reader holds object 1 and the scan took it for quiescent.</li>
 * </ul>
 */
@Description("reader fence litmus: a reader entering its section and a grace period's scan never miss each other")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the reader found NULL; the scan saw it inside")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "the reader found NULL; the scan came before the reader's store")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "the reader got object 1; the scan saw it inside")
@Outcome(id = "1, 1", expect = FORBIDDEN, desc = "store buffering: the reader holds object 1, the scan took it for quiescent")
public abstract class ReaderFenceLitmus {
    private final TrialDomain domain;
    private final RcuReader reader;
    private final boolean qsbr;
    private final RcuPointer gp = new RcuPointer();

    ReaderFenceLitmus(RcuFlavor flavor, Set<UnsafeVariant> unsafe) {
        domain = TrialDomain.of(flavor, unsafe);
        TrialCpu cpu = domain.cpu(0, "cpu 0");
        reader = cpu.rcu();
        qsbr = flavor == RcuFlavor.QSBR;
        gp.assign(new RcuObject(1));
    }

    /** The reader: enters its section and loads {@code gp}; it leaves the section in {@link #leave}. */
    final void read(II_Result r) {
        if (qsbr) {
            reader.online();
        } else {
            reader.lock();
        }
        r.r1 = gp.dereference() != null ? 1 : 0;
    }

    /** The writer: unpublishes, then scans the readers once. */
    final void scan(II_Result r) {
        gp.clear();
        r.r2 = domain.scanReadersOnce() ? 1 : 0;
    }

    /** The arbiter: the reader's section ends after both actors. */
    final void leave() {
        if (qsbr) {
            reader.offline();
        } else {
            reader.unlock();
        }
    }
}
