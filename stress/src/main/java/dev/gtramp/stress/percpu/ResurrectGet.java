package dev.gtramp.stress.percpu;

import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.percpu.PercpuRefs;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.Residue;
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
 *     c = kills confirmed                        (CPU 0's softirq may now run the callback)
 *     live = percpu_ref_tryget_live(ref)         resurrecting = 1
 *     r1 |= live &amp;&amp; (c == 2 ||                   percpu_ref_resurrect(ref)
 *                 c == 1 &amp;&amp; !resurrecting)         (waits for the kill's switch)
 *     percpu_ref_get(ref); r2 |= released        resurrected = 1
 *     percpu_ref_put(ref)                        percpu_ref_kill_and_confirm(ref, confirm)
 *     if (live) percpu_ref_put(ref)
 *     r4 |= the call ran inside the resurrect
 *     (end of call: rcu_qs(); then, as softirq, the RCU callbacks queued so far:
 *      a grace period, the switch to atomic mode, confirm)
 *   r2 |= released; percpu_ref_put(ref)
 *                                                arbiter: rcu_barrier(); r3 = release count
 * </pre>
 *
 * The ref is made with {@code PERCPU_REF_ALLOW_REINIT}, so its per-CPU counters survive a kill.
 * CPU 0 holds a reference, taken in percpu mode before the trial, and meanwhile takes and drops
 * more, one {@code tryget_live} and one {@code get} per kernel call; it also runs the RCU callbacks,
 * as the softirq of the CPU that queued them would. The killer kills the ref, at once resurrects
 * it, and kills it again.
 *
 * <p>The resurrect clears {@code __PERCPU_REF_DEAD} at once (from then on {@code tryget_live}
 * succeeds, on the atomic count) and then finds the kill's switch to atomic mode in flight
 * ({@code confirm_switch} set: its grace period has not ended, so CPU 0's per-CPU count is not
 * folded yet). It must wait for that switch ({@code __percpu_ref_switch_mode}) before it zeroes the
 * per-CPU counters and clears {@code __PERCPU_REF_ATOMIC}: a resurrect that zeroes them first loses
 * the reference CPU 0 counted there, and the kill's late callback folds the new per-CPU counts a
 * second time. While the resurrect waits, CPU 0 runs the kill's callback and goes on calling, so
 * its gets and {@code tryget_live}s run inside the resurrect, on a ref that is atomic and live
 * again; before and after it they meet the ref percpu, dead, percpu again and dead again. The first
 * kill's confirmation runs after the resurrect began, so only the final kill's forbids a
 * {@code tryget_live} outright.
 *
 * <p>Outcomes {@code (r1, r2, r3, r4)}; {@code r4} is 1 if a whole call of CPU 0 ran between the
 * start of the resurrect and its return:
 * <ul>
 *   <li>{@code 0, 0, 1, 1}: CPU 0's gets raced the resurrect; counted once, released once at the end;</li>
 *   <li>{@code 0, 0, 1, 0}: counted once, released once, but no call of CPU 0 fell inside the resurrect;</li>
 *   <li>{@code 1, *, *, *}: FORBIDDEN, {@code tryget_live} succeeded on a ref whose kill was confirmed;</li>
 *   <li>{@code *, 1, *, *}: FORBIDDEN, the release ran while CPU 0 held its reference (a get was lost);</li>
 *   <li>{@code 0, 0, 9, *}: FORBIDDEN, an otherwise acceptable trial left residue once every callback
 *       had run (live objects, per-CPU variables, callbacks or warnings: see {@link Residue});</li>
 *   <li>anything else: FORBIDDEN (the release ran other than once, a put went below zero
 *       ({@code r3 = -1}), or CPU 0 waited 5 s for the killer ({@code r4 = 2})).</li>
 * </ul>
 */
@Description("percpu_ref_resurrect racing get and tryget_live: counted once, released once, never got live dead")
@Outcome(id = {"0, 0, 1, 1", "0, 0, 1, 0"}, expect = ACCEPTABLE, desc = "every reference counted once; released once at the end")
@Outcome(id = "0, 0, 9, .*", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
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
    /** Set by the killer once {@code percpu_ref_resurrect} has returned. */
    volatile boolean resurrected;
    /** CPU 0's: the kills whose callbacks it has run. */
    private int callbacksRun;

    ResurrectGet(Set<UnsafeVariant> unsafe) {
        super(RcuFlavor.QSBR, unsafe, Set.of(PercpuRefs.InitFlag.ALLOW_REINIT));
        getBeforeTrial(cpu0);
        setupDone();
    }

    /** CPU 0: tryget_live, get and puts, one kernel call at a time, and the RCU callbacks in between. */
    final void getAndTryGetLive(IIII_Result r) {
        cpu0.bind();
        long deadline = System.nanoTime() + TrialDomain.PATIENCE_NANOS;
        try {
            do {
                boolean inResurrect = resurrecting && !resurrected;
                cpu0.readLock();
                try {
                    int c = confirms;
                    boolean live = ref.tryGetLive(cpu0);
                    if (live && (c >= 2 || c == 1 && !resurrecting)) {
                        r.r1 = 1;
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
                if (inResurrect && !resurrected) {
                    r.r4 = 1;
                }
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
            kills = 1;
            resurrecting = true;
            ref.resurrect();
            resurrected = true;
            ref.killAndConfirm(x -> confirms++);
            kills = 2;
        } catch (KernelException e) {
            error = true;
        } finally {
            killerDone = true;
        }
    }

    final void check(IIII_Result r) {
        r.r3 = releasesAfterCallbacks();
        if (residue(r, "0, 0, 1, 1", "0, 0, 1, 0")) {
            r.r3 = Residue.VALUE;
        }
    }
}
