package dev.gtramp.kernel.fault;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A named place where the kernel may fail on purpose: one {@code struct fault_attr} and its
 * {@code should_fail()} call site, such as {@code failslab} for one allocation type. Points come
 * from {@link FaultInjector#point(String)}, one instance per name, shared by every CPU.
 *
 * <p>Disarmed, {@link #shouldFail()} costs one load and a branch and counts nothing. Armed, it
 * counts the call, lets the {@link FaultSpec} decide, and counts the failure; arm with
 * {@link FaultSpec#never()} to count calls without failing any.
 */
public final class FaultPoint {
    private static final VarHandle POLICY;

    static {
        try {
            POLICY = MethodHandles.lookup().findVarHandle(FaultPoint.class, "policy", FaultPolicy.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final String name;
    /**
     * The armed state, or null when disarmed. Read with acquire, written with release: a caller
     * that sees a policy sees it fully built, and the acquire (unlike a plain load) keeps the JIT
     * from hoisting the load out of a loop, so a running workload notices arming. Nothing stronger
     * is needed: arming is configuration, not a handoff of data the calling path depends on.
     */
    @SuppressWarnings("unused")
    private FaultPolicy policy;
    private final AtomicLong calls = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();

    FaultPoint(String name) {
        this.name = name;
    }

    public String name() {
        return name;
    }

    /**
     * Whether this call should fail ({@code should_fail()}). Disarmed: one load and a branch
     * (0.67 ns per call in the bench module's {@code GuardBenchmark}, the cost of returning a field).
     */
    public boolean shouldFail() {
        FaultPolicy p = (FaultPolicy) POLICY.getAcquire(this);
        return p != null && decide(p);
    }

    /**
     * Throws if this call should fail.
     *
     * @param culprit what failed, e.g. {@code "kmalloc of 64 bytes for kfunc_md"}; pass a constant
     *                on hot paths, or test {@link #shouldFail()} and build the message only then
     * @throws KernelException {@code errno}, "fault injected at {@literal <point>: <culprit>}"
     */
    public void check(Errno errno, String culprit) {
        if (shouldFail()) {
            throw injected(errno, culprit);
        }
    }

    /** The exception an injected failure of this point throws; for callers that test {@link #shouldFail()} themselves. */
    public KernelException injected(Errno errno, String culprit) {
        return new KernelException(errno, "fault injected at " + name + ": " + culprit);
    }

    private boolean decide(FaultPolicy p) {
        calls.incrementAndGet();
        if (p.shouldFail()) {
            failures.incrementAndGet();
            return true;
        }
        return false;
    }

    /** Arms this point with fresh counters: call numbers start again at 1. Replaces any earlier arming. */
    public void arm(FaultSpec spec) {
        POLICY.setRelease(this, new FaultPolicy(Objects.requireNonNull(spec, "spec")));
    }

    /** Disarms this point; its call and failure counts stay. */
    public void disarm() {
        POLICY.setRelease(this, (FaultPolicy) null);
    }

    public boolean isArmed() {
        return POLICY.getAcquire(this) != null;
    }

    /** The spec this point is armed with, or null. */
    public FaultSpec spec() {
        FaultPolicy p = (FaultPolicy) POLICY.getAcquire(this);
        return p == null ? null : p.spec;
    }

    /** Calls made while the point was armed, over its whole life. */
    public long calls() {
        return calls.get();
    }

    /** Failures injected, over the point's whole life. */
    public long failures() {
        return failures.get();
    }

    /** Name, counts and arming, as {@link FaultInjector#points()} lists them. */
    public FaultPointStats stats() {
        return new FaultPointStats(name, calls.get(), failures.get(), spec());
    }

    @Override
    public String toString() {
        return stats().toString();
    }
}
