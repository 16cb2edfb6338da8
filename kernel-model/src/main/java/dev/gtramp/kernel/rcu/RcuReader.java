package dev.gtramp.kernel.rcu;

/**
 * One reader of an RCU domain: a simulated CPU, or a thread registered with a
 * {@linkplain RcuFlavor#GENERAL general} domain. A reader is used by its owning thread only.
 *
 * <p>Between {@link #lock()} and the matching {@link #unlock()} (or, for QSBR, between two
 * quiescent states while online) the reader may dereference RCU-protected pointers; a grace period
 * that starts after it obtained a pointer does not end before it lets go.
 */
public interface RcuReader {
    /** {@code rcu_read_lock()}: enters a read-side critical section; sections nest. */
    void lock();

    /** {@code rcu_read_unlock()}: leaves the innermost read-side critical section. */
    void unlock();

    /**
     * {@code rcu_qs()}: reports that the reader holds no RCU-protected reference. A no-op for
     * flavors whose read sections are delimited by {@link #lock()}/{@link #unlock()}.
     */
    void quiescentState();

    /** Leaves RCU's watch (idle or offline CPU, {@code rcu_thread_offline}): grace periods stop waiting for it. */
    void offline();

    /** Comes back under RCU's watch after {@link #offline()} ({@code rcu_thread_online}). */
    void online();

    /**
     * {@link #online()} without its trailing full fence. The caller must execute
     * {@code VarHandle.fullFence()} before it loads any RCU-protected pointer; this lets a CPU
     * bring the readers of several domains online with one fence.
     */
    void onlineNoFence();

    /** Whether grace periods wait for this reader at all. */
    boolean isOnline();

    /** Whether the reader is inside a read-side critical section (as far as its owner can tell). */
    boolean inReadSection();

    /** The thread that owns the reader now, or {@code null}. */
    Thread owner();

    /** A short description for stall warnings, e.g. {@code "cpu 1 (thread main)"}. */
    String describe();
}
