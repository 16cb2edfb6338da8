package dev.gtramp.stress.rcu;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.TrialCpu;
import dev.gtramp.stress.TrialDomain;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>{@code call_rcu}: a callback never runs while a pre-existing reader is inside its section.</b>
 *
 * <pre>
 *   reader (cpu 0)                          writer
 *   rcu_read_lock()                         queued = 1
 *   r1 = (section began before call_rcu)    call_rcu(cb)        cb: ran = 1
 *   (stay)  r2 = ran                        (callback processing)
 *   rcu_read_unlock()   [QSBR: rcu_qs()]
 * </pre>
 *
 * A reader section that began before {@code call_rcu} was called is one the callback must wait
 * for; one that began later may see it run. The reader knows its section is pre-existing when it
 * reads {@code queued == 0} inside it (the general flavor: the lock's full fence orders its epoch
 * store before that load, and the writer's grace period orders its {@code queued} store before it
 * reads the epoch), or, for QSBR, always: the reader is online from before the trial, so its section
 * has been open since then. The reader then stays in the section until the callback runs (the
 * hazard) or the grace period is seen waiting for it.
 *
 * <p>Outcomes {@code (r1, r2)}:
 * <ul>
 *   <li>{@code 1, 0}: a pre-existing reader; the callback waited for it;</li>
 *   <li>{@code 0, 0}: a reader that may have begun after {@code call_rcu}, and the callback had not run;</li>
 *   <li>{@code 0, 1}: a reader that began after {@code call_rcu} (general flavor) saw the callback run:
 *       allowed, the grace period need not wait for it;</li>
 *   <li>{@code 1, 1}: FORBIDDEN, the callback ran while a pre-existing reader was in its section;</li>
 *   <li>{@code 1, 2}, {@code 0, 2}: FORBIDDEN, the reader gave up waiting for either.</li>
 * </ul>
 */
@Description("call_rcu: a callback never runs while a reader that began before call_rcu is in its section")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "pre-existing reader; the callback waited for it")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "reader that may have begun after call_rcu; callback not run")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "reader that began after call_rcu saw the callback run")
@Outcome(id = "1, 1", expect = FORBIDDEN, desc = "the callback ran inside a pre-existing reader's section")
@Outcome(id = "[01], 2", expect = FORBIDDEN, desc = "stuck: neither the callback nor a grace period waiting for it")
public abstract class CallbackAfterReaders {
    final TrialDomain domain;
    final TrialCpu cpu;
    private final boolean qsbr;
    volatile boolean queued;
    volatile boolean ran;

    CallbackAfterReaders(RcuFlavor flavor, Set<UnsafeVariant> unsafe) {
        domain = TrialDomain.of(flavor, unsafe);
        cpu = domain.cpu(0, "cpu 0");
        qsbr = flavor == RcuFlavor.QSBR;
        // QSBR: online before the trial, so the reader's section is already open (pre-existing).
        cpu.rcu().online();
    }

    /** The reader. */
    final void read(II_Result r) {
        cpu.claim();
        cpu.readLock();
        boolean preExisting = qsbr || !queued;
        r.r1 = preExisting ? 1 : 0;
        boolean settled = domain.linger(() -> ran, 1);
        r.r2 = !settled ? 2 : ran ? 1 : 0;
        cpu.readUnlock();
        cpu.unbind();
    }

    /** The writer: {@code call_rcu(cb)} and process the callbacks. */
    final void update() {
        queued = true;
        domain.call(() -> ran = true);
        domain.runPendingCallbacks();
    }
}
