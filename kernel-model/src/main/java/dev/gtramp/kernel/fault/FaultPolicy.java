package dev.gtramp.kernel.fault;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The armed state of one {@link FaultPoint}: its {@link FaultSpec} and the counters the spec's
 * decision needs, fresh for each arming. Every counter is an atomic, so concurrent calls get
 * distinct call numbers and {@code times} failures are handed out exactly, never one more.
 */
final class FaultPolicy {
    final FaultSpec spec;
    /** Calls seen since arming; each call takes a distinct number by getAndIncrement. */
    private final AtomicLong seen = new AtomicLong();
    /** Failures still allowed; unused when {@code spec.times()} is unlimited. */
    private final AtomicLong remaining;

    FaultPolicy(FaultSpec spec) {
        this.spec = spec;
        this.remaining = new AtomicLong(spec.times());
    }

    /** {@code should_fail()}: decides one call. */
    boolean shouldFail() {
        long k = seen.incrementAndGet();
        if (k <= spec.skip()) {
            return false;
        }
        if (spec.interval() > 1 && (k - spec.skip()) % spec.interval() != 0) {
            return false;
        }
        if (!spec.draws(k)) {
            return false;
        }
        return spec.times() == FaultSpec.UNLIMITED || takeOne();
    }

    /** {@code atomic_dec_not_zero(&attr->times)}: claims one of the remaining failures. */
    private boolean takeOne() {
        long r;
        do {
            r = remaining.get();
            if (r == 0) {
                return false;
            }
        } while (!remaining.compareAndSet(r, r - 1));
        return true;
    }
}
