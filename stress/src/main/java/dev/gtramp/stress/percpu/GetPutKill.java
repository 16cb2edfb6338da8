package dev.gtramp.stress.percpu;

import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.Residue;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>{@code percpu_ref_get}/{@code percpu_ref_put} on one CPU racing {@code percpu_ref_kill} never
 * make the release run early.</b>
 *
 * <pre>
 *   cpu 0 (holds 1 ref)                     killer
 *   until the kill is over, kernel calls:   percpu_ref_kill(ref)
 *     percpu_ref_get(ref)                   (callback processing: a grace period, then the
 *     r1 |= released                         switch to atomic mode)
 *     percpu_ref_put(ref)
 *     (end of call: rcu_qs())
 *   percpu_ref_put(ref)
 *                                           arbiter: rcu_barrier(); r2 = release count
 * </pre>
 *
 * CPU 0 holds a reference from before the trial, and meanwhile takes and drops more, one pair per
 * simulated kernel call, reporting a quiescent state after each call, until the kill and its callback
 * processing are over (at least one call, at most {@link #MAX_CALLS}). So the kill always lands among
 * CPU 0's calls, its grace period can end between two of them, and CPU 0's gets and puts move from
 * the per-CPU counter to the atomic count at some point of the loop. As long as CPU 0 holds its first
 * reference the release must not run, and once every reference is dropped it must run once.
 *
 * <p>The hazard: without the grace period, the sum of the per-CPU counts can miss a get or a put that
 * has tested the mode but not yet updated its counter. A lost get makes the count reach zero while
 * CPU 0 holds references (the release runs early, then again, and the last put goes below zero);
 * a lost put keeps it above zero for ever (the release never runs).
 *
 * <p>Outcomes {@code (r1, r2)}:
 * <ul>
 *   <li>{@code 0, 1}: never released while CPU 0 held a reference; released exactly once;</li>
 *   <li>{@code 1, *}: FORBIDDEN, the release ran while CPU 0 held a reference;</li>
 *   <li>{@code 0, 0}: FORBIDDEN, the release never ran (a put was lost);</li>
 *   <li>{@code 0, 9}: FORBIDDEN, an otherwise acceptable trial left residue once every callback had
 *       run (per-CPU variables, callbacks or warnings: see {@link Residue})</li>
 *   <li>anything else: FORBIDDEN (released more than once, or a put went below zero: {@code r2 = -1}).</li>
 * </ul>
 */
@Description("percpu_ref get/put racing percpu_ref_kill never make the release run early")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "never released while held; released exactly once")
@Outcome(id = "0, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = "1, .*", expect = FORBIDDEN, desc = "the release ran while CPU 0 held a reference")
@Outcome(id = "0, 0", expect = FORBIDDEN, desc = "the release never ran: a put was lost")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "released more than once, or a put below zero (-1)")
public abstract class GetPutKill extends PercpuTrial {
    /** At most this many kernel calls on CPU 0 per trial (about a millisecond's worth). */
    static final int MAX_CALLS = 1 << 15;
    volatile boolean killDone;

    GetPutKill(Set<UnsafeVariant> unsafe) {
        this(RcuFlavor.QSBR, unsafe);
    }

    GetPutKill(RcuFlavor flavor, Set<UnsafeVariant> unsafe) {
        super(flavor, unsafe);
        getBeforeTrial(cpu0);
        setupDone();
    }

    /** CPU 0: get/put pairs, one per kernel call, until the kill is over; then drops its first reference. */
    final void getPut(II_Result r) {
        cpu0.bind();
        try {
            int calls = 0;
            do {
                cpu0.readLock();
                ref.get(cpu0);
                if (released()) {
                    r.r1 = 1;
                }
                ref.put(cpu0);
                cpu0.readUnlock();
            } while (++calls < MAX_CALLS && !killDone);
            if (released()) {
                r.r1 = 1;
            }
            ref.put(cpu0);
        } catch (KernelException e) {
            error = true;
        } finally {
            cpu0.unbind();
        }
    }

    /** The killer: {@code percpu_ref_kill}, then the callback processing. */
    final void kill() {
        try {
            ref.kill();
            domain.runPendingCallbacks();
        } catch (KernelException e) {
            error = true;
        } finally {
            killDone = true;
        }
    }

    final void check(II_Result r) {
        r.r2 = releasesAfterCallbacks();
        if (residue(r, "0, 1")) {
            r.r2 = Residue.VALUE;
        }
    }
}
