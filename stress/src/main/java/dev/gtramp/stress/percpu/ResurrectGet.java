package dev.gtramp.stress.percpu;

import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.percpu.PercpuRefs;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.TrialDomain;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.IIII_Result;

import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>{@code percpu_ref_resurrect} racing {@code percpu_ref_get} and {@code percpu_ref_tryget_live}:
 * every reference is counted once, the release runs once, and a dead ref is never got live.</b>
 *
 * <pre>
 *   cpu 0 (holds 1 ref)                          killer
 *   until the killer is done, kernel calls:      percpu_ref_kill_and_confirm(ref, confirm)
 *     c = kills confirmed                        (wait for a whole call of CPU 0)
 *     live = percpu_ref_tryget_live(ref)         (CPU 0's softirq may now run the callback)
 *     r1 |= live &amp;&amp; (c == 2 ||                   resurrecting = 1
 *                 c == 1 &amp;&amp; !resurrecting)       percpu_ref_resurrect(ref)
 *     r4 |= live after a failed one                (waits for the kill's switch)
 *     percpu_ref_get(ref); r2 |= released        (wait for a whole call of CPU 0)
 *     percpu_ref_put(ref)                        percpu_ref_kill_and_confirm(ref, confirm)
 *     if (live) percpu_ref_put(ref)
 *     (end of call: rcu_qs(); then, as softirq, the RCU callbacks queued so far:
 *      a grace period, the switch to atomic mode, confirm)
 *   r2 |= released; percpu_ref_put(ref)
 *                                                arbiter: rcu_barrier(); r3 = release count
 * </pre>
 *
 * The ref is made with {@code PERCPU_REF_ALLOW_REINIT}, so its per-CPU counters survive a kill.
 * CPU 0 holds a reference, taken in percpu mode before the trial, and meanwhile takes and drops
 * more, one {@code tryget_live} and one {@code get} per kernel call; it also runs the RCU callbacks,
 * as the softirq of the CPU that queued them would. The killer kills the ref and, once a whole call
 * of CPU 0 has met it dead, lets CPU 0 run the kill's callback and at once resurrects the ref; once
 * a whole call has met it revived, it kills it again.
 *
 * <p>The resurrect clears {@code __PERCPU_REF_DEAD} at once (from then on {@code tryget_live}
 * succeeds, on the atomic count) and then finds the kill's switch to atomic mode in flight
 * ({@code confirm_switch} set: its grace period has not ended, so CPU 0's per-CPU count is not
 * folded yet). It must wait for that switch ({@code __percpu_ref_switch_mode}) before it zeroes the
 * per-CPU counters and clears {@code __PERCPU_REF_ATOMIC}: a resurrect that zeroes them first loses
 * the reference CPU 0 counted there, and the kill's late callback folds the new per-CPU counts a
 * second time. CPU 0's gets and {@code tryget_live}s meet the ref in every mode: percpu, atomic and
 * dead, atomic and live again (during the resurrect's wait), percpu, and dead again. The first
 * kill's confirmation may run after the resurrect began, so only the final one's forbids a
 * {@code tryget_live} outright.
 *
 * <p>Outcomes {@code (r1, r2, r3, r4)}; {@code r4} is 1 if CPU 0 saw {@code tryget_live} fail and
 * then succeed, i.e. met the ref dead and then resurrected:
 * <ul>
 *   <li>{@code 0, 0, 1, 1}: CPU 0 met the resurrect; counted once, released once at the end;</li>
 *   <li>{@code 0, 0, 1, 0}: counted once, released once, but no call of CPU 0 saw the ref dead and
 *       then live (it was descheduled across the whole dead window);</li>
 *   <li>{@code 1, *, *, *}: FORBIDDEN, {@code tryget_live} succeeded on a ref whose kill was confirmed;</li>
 *   <li>{@code *, 1, *, *}: FORBIDDEN, the release ran while CPU 0 held its reference (a get was lost);</li>
 *   <li>anything else: FORBIDDEN (the release ran other than once, a put went below zero
 *       ({@code r3 = -1}), or CPU 0 waited 5 s for the killer ({@code r4 = 2})).</li>
 * </ul>
 */
@Description("percpu_ref_resurrect racing get and tryget_live: counted once, released once, never got live dead")
@Outcome(id = {"0, 0, 1, 1", "0, 0, 1, 0"}, expect = ACCEPTABLE, desc = "every reference counted once; released once at the end")
@Outcome(id = "1, .*", expect = FORBIDDEN, desc = "tryget_live succeeded on a ref whose kill was confirmed")
@Outcome(id = ".*, 1, .*", expect = FORBIDDEN, desc = "the release ran while CPU 0 held a reference")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "released other than once, a put below zero (-1), or stuck (r4 = 2)")
public abstract class ResurrectGet extends PercpuTrial {
    /** Kills whose {@code confirm_kill} has run: 1 after the first kill's switch, 2 after the final one's. */
    volatile int confirms;
    /** Set by the killer just before {@code percpu_ref_resurrect}. */
    volatile boolean resurrecting;
    /** Kills so far, each with a {@code call_rcu} for CPU 0 to run. */
    volatile int kills;
    volatile boolean killerDone;
    /** CPU 0's kernel calls so far (CPU 0 writes it alone). */
    volatile int calls;
    /** Set by CPU 0 when its calls are over (or one failed). */
    volatile boolean cpu0Stopped;
    /** CPU 0's: the kills whose callbacks it has run. */
    private int callbacksRun;

    ResurrectGet(Set<UnsafeVariant> unsafe) {
        super(RcuFlavor.QSBR, unsafe, Set.of(PercpuRefs.InitFlag.ALLOW_REINIT));
        getBeforeTrial(cpu0);
    }

    /** CPU 0: tryget_live, get and puts, one kernel call at a time, and the RCU callbacks in between. */
    final void getAndTryGetLive(IIII_Result r) {
        cpu0.bind();
        long deadline = System.nanoTime() + TrialDomain.PATIENCE_NANOS;
        try {
            boolean sawDead = false;
            do {
                cpu0.readLock();
                try {
                    int c = confirms;
                    boolean live = ref.tryGetLive(cpu0);
                    if (live && (c >= 2 || c == 1 && !resurrecting)) {
                        r.r1 = 1;
                    }
                    if (!live) {
                        sawDead = true;
                    } else if (sawDead) {
                        r.r4 = 1;
                    }
                    ref.get(cpu0);
                    if (released()) {
                        r.r2 = 1;
                    }
                    ref.put(cpu0);
                    if (live) {
                        ref.put(cpu0);
                    }
                } finally {
                    // The end of the call, even one that failed: the softirq below must not run inside it.
                    cpu0.readUnlock();
                }
                calls++;
                runCallbacks();
                if (System.nanoTime() - deadline > 0) {
                    r.r4 = 2;
                    break;
                }
            } while (!killerDone);
            runCallbacks();
            if (released()) {
                r.r2 = 1;
            }
            ref.put(cpu0);
        } catch (KernelException e) {
            error = true;
        } finally {
            cpu0Stopped = true;
            // The killer may wait for a kill's switch: keep running the callbacks until it is done.
            while (!killerDone && System.nanoTime() - deadline < 0) {
                runCallbacks();
                Thread.onSpinWait();
            }
            runCallbacks();
            cpu0.unbind();
        }
    }

    /** The softirq of CPU 0, between two calls: the callbacks of the kills so far, after a grace period. */
    private void runCallbacks() {
        int k = kills;
        if (k != callbacksRun) {
            callbacksRun = k;
            try {
                domain.runPendingCallbacks();
            } catch (KernelException e) {
                error = true;
            }
        }
    }

    /** The killer: kill, resurrect, kill again; CPU 0 runs the callbacks. */
    final void killResurrectKill() {
        try {
            ref.killAndConfirm(x -> confirms++);
            // Dead until a whole call of CPU 0 has met it so; only then may CPU 0's softirq run the
            // kill's callback, which the resurrect then finds in flight.
            awaitCallOfCpu0();
            kills = 1;
            resurrecting = true;
            ref.resurrect();
            // Live until a whole call of CPU 0 has met it revived.
            awaitCallOfCpu0();
            ref.killAndConfirm(x -> confirms++);
            kills = 2;
        } catch (KernelException e) {
            error = true;
        } finally {
            killerDone = true;
        }
    }

    /** Waits until CPU 0 has begun and ended a call from now (or stopped). */
    private void awaitCallOfCpu0() {
        int before = calls;
        TrialDomain.await(() -> calls - before >= 2 || cpu0Stopped);
    }

    final void check(IIII_Result r) {
        r.r3 = releasesAfterCallbacks();
    }
}
