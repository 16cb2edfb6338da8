package dev.gtramp.stress.percpu;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.rcu.RcuFlavor;
import org.openjdk.jcstress.annotations.Description;

import java.util.Set;

/**
 * <b>{@link GetPutKill} on the general (preemptible, epoch) RCU flavor: get/put racing
 * {@code percpu_ref_kill} never make the release run early, and it runs exactly once.</b>
 *
 * <pre>
 *   cpu 0 (holds 1 ref)                     killer
 *   until the kill is over, kernel calls:   percpu_ref_kill(ref)
 *     rcu_read_lock()                       (callback processing: synchronize_rcu() of the
 *     percpu_ref_get(ref)                    general flavor, then the switch to atomic mode)
 *     r1 |= released
 *     percpu_ref_put(ref)
 *     rcu_read_unlock()
 *   percpu_ref_put(ref)
 *                                           arbiter: rcu_barrier(); r2 = release count
 * </pre>
 *
 * The same race as {@link GetPutKill}, with the ref's domain the general flavor (a kernel built with
 * {@code CONFIG_PREEMPT_RCU}). There the fast path's read-side section, {@code rcu_read_lock()} in
 * {@code percpu_ref_get} and {@code percpu_ref_put}, is what the kill's grace period waits for: it
 * ends at {@code rcu_read_unlock()}, not at the CPU's next quiescent state as under QSBR, so the
 * grace period must see the reader's epoch published (the lock's full fence) and cleared (the
 * unlock's release) on each get and put. A get or put whose section the grace period missed has
 * tested percpu mode but may not have updated the CPU's counter when the switch folds the counters.
 *
 * <p>Outcomes {@code (r1, r2)}, declared on {@link GetPutKill}: {@code 0, 1} the only acceptable
 * one; {@code 1, *} an early release; {@code 0, 0} a lost put; anything else FORBIDDEN.
 */
@Description("percpu_ref get/put racing percpu_ref_kill on the general RCU flavor never make the release run early")
public abstract class GeneralGetPutKill extends GetPutKill {
    GeneralGetPutKill(Set<UnsafeVariant> unsafe) {
        super(RcuFlavor.GENERAL, unsafe);
    }
}
