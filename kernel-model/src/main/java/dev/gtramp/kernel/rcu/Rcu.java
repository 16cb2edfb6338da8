package dev.gtramp.kernel.rcu;

/**
 * One RCU domain: its grace periods, its callbacks and its readers.
 *
 * <p>Invariant: when {@link #synchronize()} returns, and before a callback passed to
 * {@link #call(Runnable)} runs, every read-side critical section that was running when the call
 * was made has ended. Memory effects before the call happen-before the end of the grace period,
 * and every reader's accesses inside those sections happen-before the return (or the callback).
 */
public interface Rcu extends AutoCloseable {
    RcuFlavor flavor();

    /**
     * {@code synchronize_rcu()}: waits for a grace period. Concurrent callers share grace periods: a
     * caller waits for the end of the first grace period that starts after it called, not for one
     * grace period of its own.
     *
     * @throws dev.gtramp.kernel.KernelException EDEADLK if the calling thread is inside a read-side
     *         critical section of this domain, where it would wait for itself
     */
    void synchronize();

    /**
     * {@code call_rcu()}: runs {@code callback} on the domain's callback thread after a grace
     * period. Callbacks queued by one thread run in the order queued.
     */
    void call(Runnable callback);

    /**
     * {@code rcu_barrier()}: waits until every callback queued before this call has run.
     *
     * @throws dev.gtramp.kernel.KernelException EDEADLK when called from a callback
     */
    void barrier();

    /**
     * Runs a blocking wait of the calling thread. A CPU whose thread blocks passes through a
     * quiescent state, as a task that calls {@code schedule()} does, so the calling thread's readers
     * go offline for the wait: a grace period never waits for a thread that is waiting for it.
     * {@link #synchronize()} and {@link #barrier()} do this themselves.
     *
     * @throws dev.gtramp.kernel.KernelException EDEADLK inside a read-side critical section, where
     *         blocking is a bug ("sleeping function called from invalid context")
     */
    void runBlocking(Runnable wait);

    /** Counters of grace periods, callbacks and grace-period latency. */
    RcuStats stats();

    /**
     * Runs the callbacks whose grace period has ended, as the callback thread would, and returns how
     * many ran. Only for a domain built with manual callbacks (a kernel booted with
     * {@code KernelConfig.withManualRcuCallbacks(true)}); EINVAL otherwise.
     */
    int runPendingCallbacks();

    /**
     * Creates and registers the reader of a context, such as a simulated CPU. A QSBR reader starts
     * offline; the context brings it online.
     */
    RcuReader readerFor(RcuContext context);

    /**
     * A reader for a thread that is not a simulated CPU; it belongs to the calling thread until
     * {@link #unregister(RcuReader)}. With the general flavor it reads between {@code lock()} and
     * {@code unlock()}; a QSBR reader starts offline and is online inside {@code lock()}/{@code unlock()},
     * or from {@code online()} to {@code offline()}, reporting quiescent states in between, as a
     * registered liburcu-qsbr thread does.
     */
    RcuReader register();

    /** Removes a reader made by {@link #register()}. */
    void unregister(RcuReader reader);

    /**
     * Runs the remaining callbacks, including those they queue on this domain, and stops the callback
     * thread; from then on {@link #call(Runnable)} fails with ESHUTDOWN. A call racing with the close
     * either has its callback run before close returns or is refused. Closing twice is a no-op.
     */
    @Override
    void close();

    /** Whether {@link #close()} has begun. */
    boolean isClosed();
}
