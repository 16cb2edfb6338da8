package dev.gtramp.stress.percpu;

import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.stress.Residue;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.IIII_Result;

import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>{@code percpu_ref_tryget_live} racing {@code percpu_ref_kill_and_confirm}.</b>
 *
 * <pre>
 *   cpu 0                                   killer
 *   r1 = confirmed                          percpu_ref_kill_and_confirm(ref, confirm)
 *   r2 = percpu_ref_tryget_live(ref)          confirm: confirmed = 1
 *   if (r2) { (hold)  r3 = released;        (callback processing: a grace period, then the
 *             percpu_ref_put(ref) }          switch to atomic mode folds the per-CPU counts)
 *                                           arbiter: rcu_barrier(); r4 = release count
 * </pre>
 *
 * The ref is live, in percpu mode. CPU 0 tries to take a live reference while the ref is killed.
 * {@code tryget_live} tests the mode inside an RCU read-side section and, in percpu mode, adds 1 to
 * CPU 0's counter. The kill marks the ref dead and switches it to atomic mode after a grace period:
 * only then can no CPU still be between its mode test and its counter update, so only then are the
 * per-CPU counts summed and folded into the atomic count. Two guarantees follow:
 * <ul>
 *   <li>once the confirmation has run, {@code tryget_live} fails on every CPU;</li>
 *   <li>a reference taken in percpu mode is counted by the fold, so the release cannot run while
 *       it is held. Without the grace period the fold can miss an increment that is under way, the
 *       count reaches zero and the release runs under CPU 0.</li>
 * </ul>
 * CPU 0 holds its reference until the release runs (the hazard), the kill is over, or the kill's
 * grace period is seen waiting for CPU 0.
 *
 * <p>Outcomes {@code (r1, r2, r3, r4)}:
 * <ul>
 *   <li>{@code 0, 1, 0, 1}: CPU 0 got a reference before the kill took effect; the release waited for its put;</li>
 *   <li>{@code 0, 0, 0, 1} and {@code 1, 0, 0, 1}: CPU 0 saw the ref dead and got nothing;</li>
 *   <li>{@code 1, 1, *, *}: FORBIDDEN, {@code tryget_live} succeeded after the kill was confirmed;</li>
 *   <li>{@code *, 1, 1, *}: FORBIDDEN, the release ran while CPU 0 held its reference;</li>
 *   <li>{@code *, 9}: FORBIDDEN, an otherwise acceptable trial left residue once every callback had
 *       run (per-CPU variables, callbacks or warnings: see {@link Residue})</li>
 *   <li>anything else: FORBIDDEN (the release ran other than once, a put went below zero
 *       ({@code r4 = -1}), or CPU 0 waited 5 s for nothing ({@code r3 = 2})).</li>
 * </ul>
 */
@Description("percpu_ref_tryget_live racing percpu_ref_kill_and_confirm")
@Outcome(id = "0, 1, 0, 1", expect = ACCEPTABLE, desc = "got a reference before the kill; the release waited for it")
@Outcome(id = {"0, 0, 0, 1", "1, 0, 0, 1"}, expect = ACCEPTABLE, desc = "saw the ref dead, got nothing")
@Outcome(id = ".*, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = "1, 1, .*", expect = FORBIDDEN, desc = "tryget_live succeeded after the kill was confirmed")
@Outcome(id = ".*, 1, 1, .*", expect = FORBIDDEN, desc = "the release ran while a reference was held")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "released other than once, a put below zero (-1), or stuck (r3 = 2)")
public abstract class TryGetLiveKill extends PercpuTrial {
    volatile boolean confirmed;
    volatile boolean killDone;

    TryGetLiveKill(Set<UnsafeVariant> unsafe) {
        super(unsafe);
        setupDone();
    }

    /** CPU 0: {@code percpu_ref_tryget_live}, hold, put. */
    final void tryGetLive(IIII_Result r) {
        cpu0.bind();
        try {
            r.r1 = confirmed ? 1 : 0;
            if (ref.tryGetLive(cpu0)) {
                r.r2 = 1;
                boolean settled = domain.linger(() -> released() || killDone, 1);
                r.r3 = !settled ? 2 : released() ? 1 : 0;
                ref.put(cpu0);
            }
        } catch (KernelException e) {
            error = true;
        } finally {
            cpu0.unbind();
        }
    }

    /** The killer: {@code percpu_ref_kill_and_confirm}, then the callback processing. */
    final void kill() {
        try {
            ref.killAndConfirm(x -> confirmed = true);
            domain.runPendingCallbacks();
        } catch (KernelException e) {
            error = true;
        } finally {
            killDone = true;
        }
    }

    final void check(IIII_Result r) {
        r.r4 = releasesAfterCallbacks();
        if (residue(r, "0, 1, 0, 1", "0, 0, 0, 1", "1, 0, 0, 1")) {
            r.r4 = Residue.VALUE;
        }
    }
}
