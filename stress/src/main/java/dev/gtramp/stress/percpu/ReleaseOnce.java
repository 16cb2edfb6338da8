package dev.gtramp.stress.percpu;

import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.stress.Residue;
import dev.gtramp.stress.TrialDomain;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>{@code percpu_ref}: the release runs exactly once, and never while a reference is held.</b>
 *
 * <pre>
 *   cpu 0 (holds HELD refs)                 cpu 1 (holds 1 ref)
 *   wait for the kill to start              killing = 1
 *   r1 = released                           percpu_ref_kill(ref)
 *   percpu_ref_put(ref) x HELD              r2 = released
 *                                           percpu_ref_put(ref)
 *                                           (callback processing: the switch to atomic mode)
 *                                           arbiter: rcu_barrier(); r3 = release count
 * </pre>
 *
 * Both CPUs took references before the trial, in percpu mode. CPU 0 drops its references as CPU 1
 * starts to kill the ref (it waits for CPU 1's signal, so that the two meet); CPU 1 then drops its
 * own. Whichever put (or the switch's own reference) takes the count to zero runs the release:
 * exactly once, after the last reference is gone. The hazard: a switch to atomic mode that sums the
 * per-CPU counts without waiting for a grace period can miss a put that is between its mode test and
 * its counter update; the count then never reaches zero (a leak), or reaches it too early.
 *
 * <p>Outcomes {@code (r1, r2, r3)}:
 * <ul>
 *   <li>{@code 0, 0, 1}: both CPUs saw the ref unreleased while holding references; released once;</li>
 *   <li>{@code 1, *, *} or {@code *, 1, *}: FORBIDDEN, the release ran while a reference was held;</li>
 *   <li>{@code *, *, 0}: FORBIDDEN, the release never ran (a put was lost);</li>
 *   <li>{@code 0, 0, 9}: FORBIDDEN, an otherwise acceptable trial left residue once every callback
 *       had run (per-CPU variables, callbacks or warnings: see {@link Residue})</li>
 *   <li>anything else: FORBIDDEN (released twice, or a put went below zero: {@code r3 = -1}).</li>
 * </ul>
 */
@Description("percpu_ref: the release runs exactly once, and never while a reference is held")
@Outcome(id = "0, 0, 1", expect = ACCEPTABLE, desc = "unreleased while held; released exactly once")
@Outcome(id = "0, 0, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = {"1, .*", ".*, 1, .*"}, expect = FORBIDDEN, desc = "the release ran while a reference was held")
@Outcome(id = ".*, 0", expect = FORBIDDEN, desc = "the release never ran: a put was lost")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "released twice, or a put below zero (-1)")
public abstract class ReleaseOnce extends PercpuTrial {
    /** References CPU 0 holds when the trial starts. */
    static final int HELD = 4;
    /** Set by CPU 1 just before it kills the ref: CPU 0 starts its puts then, to meet the kill. */
    volatile boolean killing;

    ReleaseOnce(Set<UnsafeVariant> unsafe) {
        super(unsafe);
        for (int i = 0; i < HELD; i++) {
            getBeforeTrial(cpu0);
        }
        getBeforeTrial(cpu1);
        setupDone();
    }

    /** CPU 0: drops its references as the kill starts. */
    final void putAll(III_Result r) {
        awaitKill();
        cpu0.bind();
        try {
            r.r1 = released() ? 1 : 0;
            for (int i = 0; i < HELD; i++) {
                ref.put(cpu0);
            }
        } catch (KernelException e) {
            error = true;
        } finally {
            cpu0.unbind();
        }
    }

    /** CPU 1: kills the ref, drops its own reference, then processes callbacks. */
    final void killAndPut(III_Result r) {
        cpu1.bind();
        try {
            killing = true;
            ref.kill();
            r.r2 = released() ? 1 : 0;
            ref.put(cpu1);
        } catch (KernelException e) {
            error = true;
        } finally {
            cpu1.unbind();
        }
        try {
            domain.runPendingCallbacks();
        } catch (KernelException e) {
            error = true;
        }
    }

    private void awaitKill() {
        long deadline = System.nanoTime() + TrialDomain.PATIENCE_NANOS;
        while (!killing && System.nanoTime() - deadline < 0) {
            Thread.onSpinWait();
        }
    }

    final void check(III_Result r) {
        r.r3 = releasesAfterCallbacks();
        if (residue(r, "0, 0, 1")) {
            r.r3 = Residue.VALUE;
        }
    }
}
