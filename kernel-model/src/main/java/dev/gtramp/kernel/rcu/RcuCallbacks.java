package dev.gtramp.kernel.rcu;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelLog;
import org.jctools.queues.MpscUnboundedArrayQueue;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * The {@code call_rcu} machinery of one domain ({@code rcu_do_batch} and the callback kthread):
 * callbacks go on a JCTools MPSC queue drained by one daemon thread, started on first use, which
 * takes everything queued, waits one grace period of its domain for the whole batch, and runs the
 * batch in order. A callback queued during a grace period waits for the next one, because the worker
 * drains before it takes its snapshot. With {@code manualCallbacks} there is no thread: callbacks run
 * when a caller invokes {@link #runPending()}, which lets a stress test hold a domain per trial and
 * decide on which thread callbacks run.
 *
 * <p><b>Closing</b> never loses a callback: {@link #close()} first waits until every callback has
 * run (including those that callbacks queue), then refuses new ones, waits for the {@code call}s
 * already past the check to finish queueing, and runs what they queued before the worker exits.
 * Domains whose callbacks queue onto each other share an {@link RcuCallbacksInFlight} count, which
 * their owner drains before closing any of them.
 */
final class RcuCallbacks {
    private static final VarHandle WORKER;

    static {
        try {
            WORKER = MethodHandles.lookup().findVarHandle(RcuCallbacks.class, "worker", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final long WORKER_IDLE_NANOS = 10_000_000;

    private final AbstractRcu domain;
    private final String name;
    private final KernelLog log;
    private final boolean manual;
    private final RcuCallbacksInFlight inFlight;

    private final MpscUnboundedArrayQueue<Runnable> queue = new MpscUnboundedArrayQueue<>(1024);
    /** The callback thread, started on first use. Accessed through {@link #WORKER}. */
    @SuppressWarnings("unused")
    private volatile Thread worker;
    /** Set by the worker before it parks and cleared after; {@link #call} unparks it when set. */
    private volatile boolean workerSleeping;
    /** Set by the worker while it runs callbacks, to refuse {@code barrier()} and {@code synchronize()} there. */
    private volatile boolean inCallback;
    /** Set by {@link #close()}: {@link #call} refuses new callbacks from then on. */
    private volatile boolean closed;
    /** Set by {@link #close()} once no {@link #call} can queue any more: the worker exits when the queue is empty. */
    private volatile boolean stopping;
    /**
     * The {@link #call}s between their check of {@link #closed} and the end of their offer. With
     * {@code closed}, a Dekker pair of volatile accesses: a caller increments, then reads
     * {@code closed}; close writes {@code closed}, then reads this. Synchronization order puts one
     * before the other, so either the caller sees the close or the close sees the caller and waits.
     */
    private final AtomicInteger callersQueueing = new AtomicInteger();
    /** Serializes closers: a second {@link #close()} returns when the first has finished. */
    private final Object closeLock = new Object();

    final LongAdder queued = new LongAdder();
    final LongAdder invoked = new LongAdder();

    RcuCallbacks(AbstractRcu domain, KernelLog log, boolean manual, RcuCallbacksInFlight inFlight) {
        this.domain = domain;
        this.name = domain.name();
        this.log = log;
        this.manual = manual;
        this.inFlight = Objects.requireNonNull(inFlight, "inFlight");
    }

    /** Whether the calling thread is the worker running a callback: synchronize there would wait for itself. */
    boolean runningCallbackOn(Thread t) {
        return t == worker && inCallback;
    }

    boolean isClosed() {
        return closed;
    }

    /** {@code call_rcu}: queues {@code callback}; ESHUTDOWN once the domain is closed. */
    void call(Runnable callback) {
        Objects.requireNonNull(callback, "callback");
        callersQueueing.incrementAndGet();
        try {
            if (closed) {
                throw new KernelException(Errno.ESHUTDOWN, name + ": call_rcu after the domain was closed; callback " + callback);
            }
            inFlight.queued();
            queue.offer(callback);
            queued.increment();
            if (manual) {
                return;
            }
            Thread w = worker;
            if (w == null) {
                w = startWorker();
            }
            // offer() is a volatile RMW and workerSleeping a volatile read; the worker writes
            // workerSleeping before it re-checks the queue, so one of the two sees the other.
            if (workerSleeping) {
                LockSupport.unpark(w);
            }
        } finally {
            callersQueueing.decrementAndGet();
        }
    }

    private Thread startWorker() {
        Thread t = new Thread(this::workerLoop, name + "-cb");
        t.setDaemon(true);
        if (WORKER.compareAndSet(this, null, t)) {
            t.start();
            return t;
        }
        return worker;
    }

    private void workerLoop() {
        List<Runnable> batch = new ArrayList<>();
        while (true) {
            // Read before the drain: once stopping is set no call can offer any more, so a drain
            // that follows a read of true and finds nothing has seen the last callback.
            boolean stop = stopping;
            queue.drain(batch::add);
            if (batch.isEmpty()) {
                if (stop) {
                    return;
                }
                workerSleeping = true;
                if (queue.isEmpty() && !stopping) {
                    LockSupport.parkNanos(this, WORKER_IDLE_NANOS);
                }
                workerSleeping = false;
                continue;
            }
            domain.synchronize();
            inCallback = true;
            try {
                runBatch(batch, true);
            } finally {
                inCallback = false;
            }
            batch.clear();
        }
    }

    /**
     * Runs callbacks whose grace period has ended, in order. Each has had its grace period, so one
     * that throws does not hold back the others: with {@code logEach} each failure is logged, as
     * the callback thread does; otherwise the first is returned, later ones suppressed in it.
     */
    private Throwable runBatch(List<Runnable> batch, boolean logEach) {
        Throwable first = null;
        for (Runnable cb : batch) {
            // Counted before it runs, so that a barrier's callback finds itself counted.
            invoked.increment();
            try {
                cb.run();
            } catch (Throwable t) {
                if (logEach) {
                    log.error("rcu", name + ": callback " + cb + " threw " + t);
                } else if (first == null) {
                    first = t;
                } else {
                    first.addSuppressed(t);
                }
            } finally {
                inFlight.finished();
            }
        }
        return first;
    }

    /** {@link Rcu#runPendingCallbacks()}: the worker's step on the calling thread; rethrows a callback's failure. */
    int runPending() {
        if (!manual) {
            throw new KernelException(Errno.EINVAL, name + ": callbacks run on the callback thread; "
                    + "runPendingCallbacks is for domains built with manual callbacks");
        }
        List<Runnable> batch = new ArrayList<>();
        queue.drain(batch::add);
        if (batch.isEmpty()) {
            return 0;
        }
        domain.synchronize();
        Throwable first = runBatch(batch, false);
        if (first instanceof RuntimeException e) {
            throw e;
        }
        if (first instanceof Error e) {
            throw e;
        }
        if (first != null) {
            throw new IllegalStateException(name + ": callback threw", first);
        }
        return batch.size();
    }

    /** {@code rcu_barrier()}. */
    void barrier() {
        if (closed && Thread.currentThread() != worker) {
            // A closed domain has run every callback it accepted, or is running them in close().
            synchronized (closeLock) {
                return;
            }
        }
        if (manual) {
            while (runPending() > 0) {
                // Callbacks may queue callbacks; run until none is left.
            }
            return;
        }
        if (Thread.currentThread() == worker) {
            throw new KernelException(Errno.EDEADLK, name + ": rcu_barrier called from an RCU callback");
        }
        CountDownLatch done = new CountDownLatch(1);
        call(done::countDown);
        domain.runBlocking(() -> awaitUninterruptibly(done));
    }

    /** {@link Rcu#close()}. */
    void close() {
        if (Thread.currentThread() == worker) {
            // A callback closing its own domain: it cannot wait for itself. Later calls are
            // refused; the worker finishes the queue and exits.
            closed = true;
            awaitCallersQueueing();
            stopping = true;
            return;
        }
        synchronized (closeLock) {
            if (closed) {
                return;
            }
            // While calls are still accepted: run callbacks until none is left.
            if (manual || worker != null) {
                barrier();
            }
            closed = true;
            awaitCallersQueueing();
            stopping = true;
            Thread w = worker;
            if (w != null) {
                LockSupport.unpark(w);
                joinUninterruptibly(w);
            }
            if (manual) {
                runQueuedAfterClose();
            }
        }
    }

    /** After the close: runs what the last calls queued; a callback that queues another is refused. */
    private void runQueuedAfterClose() {
        List<Runnable> batch = new ArrayList<>();
        queue.drain(batch::add);
        if (!batch.isEmpty()) {
            domain.synchronize();
            runBatch(batch, true);
        }
    }

    /** Waits for the {@link #call}s that passed their check of {@link #closed} before it was set. */
    private void awaitCallersQueueing() {
        while (callersQueueing.get() != 0) {
            Thread.onSpinWait();
        }
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static void joinUninterruptibly(Thread t) {
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
