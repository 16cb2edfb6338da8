package dev.gtramp.kernel.rcu;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelLog;
import dev.gtramp.kernel.UnsafeVariant;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The machinery every flavor shares: grace-period sequencing with sharing, the reader registry, the
 * wait for readers with stall warnings, and the {@code call_rcu} callback thread.
 *
 * <p><b>Grace-period sharing</b> follows the kernel's {@code rcu_seq}: {@link #gpSeq} is even when no
 * grace period runs and odd while one does. A caller takes the snapshot
 * {@code rcu_seq_snap = (gpSeq + 3) & ~1}, the sequence value at which a grace period that began
 * after the call has ended, and returns once {@code gpSeq} reaches it. Grace periods run one at a
 * time under {@link #gpLock}; a caller that finds its snapshot reached when it gets the lock returns
 * without running one, so N concurrent callers cost about two grace periods, not N.
 *
 * <p><b>Callbacks</b> ({@code call_rcu}, {@code rcu_barrier}, the callback thread and closing)
 * live in {@link RcuCallbacks}.
 */
public abstract class AbstractRcu implements Rcu {
    private static final VarHandle READERS;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            READERS = l.findVarHandle(AbstractRcu.class, "readers", AbstractReader[].class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final int SPINS = 128;
    private static final long MIN_PARK_NANOS = 10_000;
    private static final long MAX_PARK_NANOS = 1_000_000;

    private final RcuFlavor flavor;
    private final String name;
    private final KernelLog log;
    private final long stallTimeoutNanos;
    /** Deliberately broken behaviour for the stress suite; empty otherwise. */
    final Set<UnsafeVariant> unsafe;
    private final boolean scanBeforeAdvance;
    private final boolean giveUpOnStall;
    private final boolean shareStartedGracePeriod;

    /** {@code rcu_seq}: even = idle, odd = a grace period in progress. Written under {@link #gpLock}. */
    private volatile long gpSeq;
    private final ReentrantLock gpLock = new ReentrantLock();
    /** Copy-on-write; read with acquire by grace periods, replaced under {@code this}. */
    @SuppressWarnings("unused")
    private AbstractReader[] readers = new AbstractReader[0];

    /** {@code call_rcu}, {@code rcu_barrier} and the callback thread. */
    private final RcuCallbacks callbacks;

    private final LongAdder synchronizeCalls = new LongAdder();
    private final AtomicLong gracePeriods = new AtomicLong();
    private final AtomicLong totalGpNanos = new AtomicLong();
    private final AtomicLong maxGpNanos = new AtomicLong();
    private final AtomicLong stallWarnings = new AtomicLong();

    AbstractRcu(RcuDomainSpec spec) {
        this.flavor = spec.flavor();
        this.name = spec.name();
        this.log = spec.log();
        this.stallTimeoutNanos = spec.stallTimeout().toNanos();
        this.unsafe = spec.unsafe();
        this.scanBeforeAdvance = this.unsafe.contains(UnsafeVariant.RCU_SCAN_BEFORE_ADVANCE);
        this.giveUpOnStall = this.unsafe.contains(UnsafeVariant.RCU_GP_GIVES_UP_ON_STALL);
        this.shareStartedGracePeriod = this.unsafe.contains(UnsafeVariant.RCU_SHARE_STARTED_GRACE_PERIOD);
        this.callbacks = new RcuCallbacks(this, log, spec.manualCallbacks(), spec.inFlight());
    }

    @Override
    public final RcuFlavor flavor() {
        return flavor;
    }

    /** The domain's name in messages and thread names, e.g. {@code "rcu_sched"}. */
    public final String name() {
        return name;
    }

    // ---------------------------------------------------------------- readers

    /** Creates a reader for a context; the subclass decides the algorithm. */
    abstract AbstractReader newReader(RcuContext context);

    @Override
    public final RcuReader readerFor(RcuContext context) {
        AbstractReader r = newReader(Objects.requireNonNull(context, "context"));
        synchronized (this) {
            AbstractReader[] old = currentReaders();
            AbstractReader[] next = Arrays.copyOf(old, old.length + 1);
            next[old.length] = r;
            READERS.setRelease(this, next);
        }
        return r;
    }

    @Override
    public RcuReader register() {
        return readerFor(new ThreadContext(Thread.currentThread()));
    }

    @Override
    public void unregister(RcuReader reader) {
        if (!(reader instanceof AbstractReader r) || r.domain != this) {
            throw new KernelException(Errno.EINVAL, "reader " + reader + " is not a reader of " + name);
        }
        if (r.inReadSection()) {
            throw new KernelException(Errno.EBUSY, name + ": unregistering " + r.describe() + " inside a read-side critical section");
        }
        r.offline();
        synchronized (this) {
            AbstractReader[] old = currentReaders();
            AbstractReader[] next = Arrays.stream(old).filter(x -> x != r).toArray(AbstractReader[]::new);
            READERS.setRelease(this, next);
        }
    }

    /** Acquire pairs with the release in {@link #readerFor}: a scan sees fully built readers. */
    private AbstractReader[] currentReaders() {
        return (AbstractReader[]) READERS.getAcquire(this);
    }

    // ---------------------------------------------------------------- grace periods

    /**
     * Starts a grace period for the readers: makes every reader that enters a read-side section (or
     * reports a quiescent state) from now on see the caller's earlier updates, and returns the
     * target that {@link AbstractReader#quiescentFor} compares against.
     */
    abstract long beginGracePeriod();

    /** The target the last grace period waited for: what an up-to-date reader already has. */
    abstract long currentGracePeriodTarget();

    @Override
    public final void runBlocking(Runnable wait) {
        checkNotInReadSection();
        List<Suspended> mine = offlineCallersReaders();
        try {
            wait.run();
        } finally {
            mine.forEach(Suspended::resume);
        }
    }

    /**
     * Takes the calling thread's online readers offline, as a CPU that blocks in {@code schedule()}
     * passes through a quiescent state, so that a grace period does not wait for the thread that
     * waits for it. The caller brings them back online. A reader that is online is inside a read
     * section for QSBR, which {@link #checkNotInReadSection()} has refused, so in practice this
     * concerns readers that a context keeps online by other means.
     */
    private List<Suspended> offlineCallersReaders() {
        Thread me = Thread.currentThread();
        List<Suspended> mine = null;
        for (AbstractReader r : currentReaders()) {
            if (r.owner() == me && r.isOnline() && !r.inReadSection()) {
                if (mine == null) {
                    mine = new ArrayList<>(2);
                }
                mine.add(new Suspended(r, r.suspend()));
            }
        }
        return mine == null ? List.of() : mine;
    }

    /** A reader taken offline for a blocking wait, and what brings it back. */
    private record Suspended(AbstractReader reader, int state) {
        void resume() {
            reader.resume(state);
        }
    }

    @Override
    public final void synchronize() {
        checkNotInReadSection();
        List<Suspended> mine = offlineCallersReaders();
        try {
            synchronizeOffline();
        } finally {
            mine.forEach(Suspended::resume);
        }
    }

    private void synchronizeOffline() {
        synchronizeCalls.increment();
        // smp_mb() of rcu_seq_snap: the caller's updates are ordered before the snapshot.
        VarHandle.fullFence();
        long seq = gpSeq;
        // rcu_seq_snap: the end of a grace period that starts after this call. Without its "+ 1" (the
        // broken variant) an idle domain still gets a full grace period, but a grace period already
        // under way, which may have passed readers before the caller's update, is accepted.
        long snap = shareStartedGracePeriod ? (seq + 2) & ~1L : (seq + 3) & ~1L;
        gpLock.lock();
        try {
            while (gpSeq - snap < 0) {
                long start = System.nanoTime();
                gpSeq = gpSeq + 1;
                if (scanBeforeAdvance) {
                    // Broken on purpose: each reader is compared with the number it already has.
                    waitForReaders(currentGracePeriodTarget(), start);
                    beginGracePeriod();
                } else {
                    waitForReaders(beginGracePeriod(), start);
                }
                gpSeq = gpSeq + 1;
                long took = System.nanoTime() - start;
                gracePeriods.incrementAndGet();
                totalGpNanos.addAndGet(took);
                maxGpNanos.accumulateAndGet(took, Math::max);
            }
        } finally {
            gpLock.unlock();
        }
    }

    /**
     * The scan of a grace period and nothing else, for litmus tests of the readers' fences: the
     * full fence a grace period executes after the updater's unpublish, then one look at every
     * reader against the target the next grace period would have ({@link #currentGracePeriodTarget()}
     * + 1), without advancing anything or waiting. Returns whether every reader looked quiescent,
     * i.e. whether a grace period starting now could have ended without waiting for any. It is not a
     * grace period and changes no state.
     */
    public final boolean scanReadersOnce() {
        long target = currentGracePeriodTarget() + 1;
        // smp_mb() between the updater's unpublish and the loads of the readers' words.
        VarHandle.fullFence();
        for (AbstractReader r : currentReaders()) {
            if (!r.quiescentFor(target)) {
                return false;
            }
        }
        return true;
    }

    /** The number of grace periods completed so far. */
    public final long completedGracePeriods() {
        return gpSeq >>> 1;
    }

    private void checkNotInReadSection() {
        Thread me = Thread.currentThread();
        for (AbstractReader r : currentReaders()) {
            if (r.owner() == me && r.inReadSection()) {
                throw new KernelException(Errno.EDEADLK, name + ": synchronize called inside a read-side critical section on "
                        + r.describe() + "; the grace period would wait for its own caller");
            }
        }
        if (callbacks.runningCallbackOn(me)) {
            throw new KernelException(Errno.EDEADLK, name + ": synchronize called from an RCU callback");
        }
    }

    private void waitForReaders(long target, long start) {
        for (AbstractReader r : currentReaders()) {
            int spins = 0;
            long park = MIN_PARK_NANOS;
            boolean warned = false;
            while (!r.quiescentFor(target)) {
                if (spins < SPINS) {
                    spins++;
                    Thread.onSpinWait();
                    continue;
                }
                LockSupport.parkNanos(park);
                park = Math.min(park * 2, MAX_PARK_NANOS);
                long waited = System.nanoTime() - start;
                if (!warned && waited > stallTimeoutNanos) {
                    warned = true;
                    log.warn("rcu", String.format("INFO: %s detected stall on %s: grace period %d has waited %d ms",
                            name, r.describe(), gpSeq >>> 1, waited / 1_000_000));
                    // Counted once the warning is out: a watcher of the count (TrialDomain.linger)
                    // times what follows the warning, not the formatting of its message.
                    stallWarnings.incrementAndGet();
                    if (giveUpOnStall) {
                        break; // Broken on purpose: the stalled reader is no longer waited for.
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- callbacks

    @Override
    public final void call(Runnable callback) {
        callbacks.call(callback);
    }

    /**
     * Runs the callbacks queued so far after one grace period, on the calling thread, as the
     * callback thread would; returns how many ran. Only for a domain built with manual callbacks.
     */
    public final int runPendingCallbacks() {
        return callbacks.runPending();
    }

    @Override
    public final void barrier() {
        callbacks.barrier();
    }

    /**
     * Runs every callback, including those that callbacks queue, then stops the domain: later
     * {@code call_rcu}s fail with ESHUTDOWN. A {@code call} racing with the close either runs its
     * callback before close returns or is refused; none is dropped. Callbacks that a callback queues
     * onto another domain are that domain's; a kernel drains its domains together (see
     * {@link RcuCallbacksInFlight}) before it closes them.
     */
    @Override
    public final void close() {
        callbacks.close();
    }

    @Override
    public final boolean isClosed() {
        return callbacks.isClosed();
    }

    @Override
    public final RcuStats stats() {
        return new RcuStats(flavor, gracePeriods.get(), synchronizeCalls.sum(), callbacks.queued.sum(),
                callbacks.invoked.sum(), Duration.ofNanos(totalGpNanos.get()), Duration.ofNanos(maxGpNanos.get()),
                stallWarnings.get());
    }

    @Override
    public String toString() {
        return name + " (" + flavor + ", " + currentReaders().length + " readers, " + completedGracePeriods()
                + " grace periods)";
    }
}
