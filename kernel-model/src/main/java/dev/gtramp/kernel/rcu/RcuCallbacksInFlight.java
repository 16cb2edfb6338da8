package dev.gtramp.kernel.rcu;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The callbacks queued on a set of RCU domains that have not finished running, counted across the
 * whole set. It is what lets a kernel wait for chains of callbacks that cross domains, such as the
 * teardown of a trampoline image: {@code call_rcu_tasks} → {@code percpu_ref_kill} →
 * {@code call_rcu} → release → {@code call_rcu_tasks} → free.
 *
 * <p>Invariant: a callback is counted from before its {@code call_rcu} returns until after it has
 * run. A callback that queues another, on any domain of the set, counts the new one before it
 * finishes itself, so the count stays above zero for as long as any chain has a step left: zero
 * means every chain has ended. (A count per domain could not say that: a domain's count may read
 * zero just before a callback of the other domain queues onto it.)
 */
public final class RcuCallbacksInFlight {
    /** Volatile read-modify-writes: the increment of a queued callback is ordered before its run. */
    private final AtomicLong count = new AtomicLong();

    void queued() {
        count.incrementAndGet();
    }

    void finished() {
        count.decrementAndGet();
    }

    /** The callbacks queued and not yet finished, over every domain sharing this count. */
    public long count() {
        return count.get();
    }

    @Override
    public String toString() {
        return count.get() + " callbacks in flight";
    }
}
