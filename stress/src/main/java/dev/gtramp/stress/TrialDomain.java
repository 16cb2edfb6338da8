package dev.gtramp.stress;

import dev.gtramp.kernel.KernelLog;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.rcu.AbstractRcu;
import dev.gtramp.kernel.rcu.Rcu;
import dev.gtramp.kernel.rcu.RcuDomainSpec;
import dev.gtramp.kernel.rcu.RcuFlavor;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The RCU domain of one trial, with its log. Each trial gets its own, so no state leaks from one
 * trial into the next, and it is cheap: no kernel image, and no callback thread ({@code call_rcu}
 * callbacks run when an actor calls {@link #runPendingCallbacks()}).
 *
 * <p><b>Stall warnings as a signal.</b> The stall timeout is {@link #STALL_TIMEOUT}, 1 ns, so a grace
 * period that has to wait for a reader logs a stall warning as soon as it first sleeps (after about
 * 128 spins and a 10 µs park). A reader that holds an object can therefore stay in its section until
 * either the object is freed (the hazard) or a grace period is seen waiting for it (the algorithm
 * working), instead of sampling once and catching only frees that land in the few nanoseconds of a
 * straight-line section: see {@link #linger}.
 */
public final class TrialDomain {
    /** A grace period that waits for a reader at all reports it. */
    public static final Duration STALL_TIMEOUT = Duration.ofNanos(1);
    /** How long an actor waits for a signal before it reports itself stuck: far above any real wait. */
    public static final long PATIENCE_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final KernelLog log = new KernelLog(false);
    private final AbstractRcu rcu;

    private TrialDomain(RcuFlavor flavor, Set<UnsafeVariant> unsafe) {
        if (flavor != RcuFlavor.QSBR && flavor != RcuFlavor.GENERAL) {
            throw new IllegalArgumentException("the stress tests use the QSBR and GENERAL flavors, not " + flavor);
        }
        this.rcu = RcuDomainSpec.of(flavor, log, STALL_TIMEOUT).withUnsafe(unsafe).withManualCallbacks(true).create();
    }

    /** A domain of {@code flavor} with manual callbacks and the given broken behaviour (usually none). */
    public static TrialDomain of(RcuFlavor flavor, Set<UnsafeVariant> unsafe) {
        return new TrialDomain(flavor, unsafe);
    }

    public Rcu rcu() {
        return rcu;
    }

    public KernelLog log() {
        return log;
    }

    /** A CPU (or preemptible reader) registered as a reader of this domain; a QSBR reader starts offline. */
    public TrialCpu cpu(int id, String name) {
        TrialCpu cpu = new TrialCpu(id, name);
        cpu.attach(rcu.readerFor(cpu));
        return cpu;
    }

    /** {@code synchronize_rcu()}. */
    public void synchronize() {
        rcu.synchronize();
    }

    /** One grace-period scan without its wait (see {@code AbstractRcu.scanReadersOnce}). */
    public boolean scanReadersOnce() {
        return rcu.scanReadersOnce();
    }

    /** {@code call_rcu()}: queues the callback; it runs in {@link #runPendingCallbacks()}. */
    public void call(Runnable callback) {
        rcu.call(callback);
    }

    /** Runs the callbacks queued so far after one grace period, on the calling thread. */
    public int runPendingCallbacks() {
        return rcu.runPendingCallbacks();
    }

    /** Stall warnings logged so far: each is a grace period found waiting for a reader. */
    public long stallWarnings() {
        return rcu.stats().stallWarnings();
    }

    /** Grace periods completed so far. */
    public long gracePeriods() {
        return rcu.stats().gracePeriods();
    }

    /** Spins until {@code flag} is true or {@link #PATIENCE_NANOS} have passed; returns the flag. */
    public static boolean await(BooleanSupplier flag) {
        long deadline = System.nanoTime() + PATIENCE_NANOS;
        while (!flag.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            Thread.onSpinWait();
        }
        return true;
    }

    /**
     * How long a reader keeps holding after the stall warnings it waited for: a grace period that
     * waited and then gave up on the reader (a scan with a deadline) frees within a park or two,
     * about 10 µs each; this is ten times that.
     */
    public static final long HOLD_AFTER_STALL_NANOS = TimeUnit.MICROSECONDS.toNanos(100);

    /**
     * Spins until {@code done} holds, or until the domain has logged at least {@code stalls} stall
     * warnings and {@link #HOLD_AFTER_STALL_NANOS} more have passed without {@code done}; returns
     * false if neither happened within {@link #PATIENCE_NANOS}. The hold after the stalls is what
     * catches a grace period that waits briefly and then abandons the reader.
     */
    public boolean linger(BooleanSupplier done, long stalls) {
        long deadline = System.nanoTime() + PATIENCE_NANOS;
        long stalledAt = 0;
        for (int spins = 1; ; spins++) {
            if (done.getAsBoolean()) {
                return true;
            }
            if (stalledAt == 0 && stallWarnings() >= stalls) {
                stalledAt = System.nanoTime();
            }
            if (stalledAt != 0 && System.nanoTime() - stalledAt > HOLD_AFTER_STALL_NANOS) {
                return true;
            }
            if ((spins & 1023) == 0 && System.nanoTime() - deadline > 0) {
                return false;
            }
            Thread.onSpinWait();
        }
    }
}
