package dev.gtramp.kernel.rcu;

/**
 * Where a reader runs: a simulated CPU or a plain thread. RCU asks it who owns the reader now (to
 * refuse a grace period that would wait for its own caller) and whether it is inside the kernel.
 */
public interface RcuContext {
    /** The thread running in this context now, or {@code null}. */
    Thread owner();

    /** Whether a kernel call is in progress, which for QSBR is a read-side critical section. */
    boolean inKernel();

    /** A short description for stall warnings, e.g. {@code "cpu 1 (thread main, depth 2)"}. */
    String describe();
}
