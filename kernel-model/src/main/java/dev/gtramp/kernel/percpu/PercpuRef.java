package dev.gtramp.kernel.percpu;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.rcu.RcuReader;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Set;
import java.util.function.Consumer;

/**
 * {@code struct percpu_ref} ({@code lib/percpu-refcount.c}): a reference count that is a set of
 * per-CPU counters while the object is live, so get and put touch only the running CPU's slot, and
 * an atomic counter once it is being torn down, so the last put can see zero.
 *
 * <p><b>Modes.</b> {@link #flags} holds {@code __PERCPU_REF_ATOMIC} and {@code __PERCPU_REF_DEAD}
 * (and, in the model, {@code EXITED} for a ref after {@code percpu_ref_exit}). With no flag set, get
 * and put add to the CPU's slot inside an RCU read-side section; otherwise they use {@link #count}.
 * In percpu mode {@link #count} holds {@code PERCPU_COUNT_BIAS + 1} so that it cannot reach zero
 * while the per-CPU parts are unfolded.
 *
 * <p><b>The switch to atomic mode</b> ({@code __percpu_ref_switch_to_atomic}): set ATOMIC, take a
 * reference for the switch, and {@code call_rcu}. After the grace period no CPU can still be inside
 * a get or put that saw percpu mode, so the callback sums every slot <em>before</em> folding the sum
 * and {@code -BIAS} into {@link #count} in one atomic add (a single CPU's part could reach zero
 * early), confirms the switch and drops its reference. {@link #kill()} is that switch plus dropping
 * the initial reference; the release runs when the count then reaches zero, exactly once, and never
 * while a reference is held. There is no implied grace period between kill and release.
 *
 * <p>A get or put needs the CPU it runs on ({@link ThisCpu}, e.g. a {@link dev.gtramp.kernel.Cpu}): the
 * slot is that CPU's, and the RCU read-side section is that CPU's reader.
 *
 * <p>Over 400 lines because it is {@code lib/percpu-refcount.c} whole: the mode switches, kill,
 * resurrect and reinit share the one state word and must be read together.
 */
public final class PercpuRef {
    static final int ATOMIC = 1;
    static final int DEAD = 2;
    static final int EXITED = 4;
    /** {@code PERCPU_COUNT_BIAS}: 2^62 rather than 2^63 keeps the Java {@code long} positive. */
    static final long BIAS = 1L << 62;

    private static final VarHandle FLAGS;
    private static final VarHandle COUNT;
    private static final Consumer<PercpuRef> NOOP_CONFIRM = r -> { };

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            FLAGS = l.findVarHandle(PercpuRef.class, "flags", int.class);
            COUNT = l.findVarHandle(PercpuRef.class, "count", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final PercpuRefs refs;
    /** What the ref counts, for messages: {@code "kfunc_md bpf_fentry_test1"}. */
    private final String owner;
    private final Consumer<PercpuRef> release;
    /** {@code allow_reinit}: keep the per-CPU counters after the switch to atomic mode of a kill. */
    private final boolean allowReinit;
    private final PerCpuLong percpu;
    /** Whether {@link #percpu} was freed ({@code __percpu_ref_exit}); under the switch lock. */
    private boolean countersFreed;
    /** Written under the switch lock; read with acquire on the fast path. */
    @SuppressWarnings("unused")
    private volatile int flags;
    /** {@code atomic_long_t count}. Accessed through {@link #COUNT}. */
    @SuppressWarnings("unused")
    private volatile long count;
    /** Non-null while a switch to atomic mode is in progress ({@code confirm_switch}); under the switch lock. */
    private Consumer<PercpuRef> confirmSwitch;
    /** {@code force_atomic}; under the switch lock. */
    private boolean forceAtomic;

    PercpuRef(PercpuRefs refs, String owner, Consumer<PercpuRef> release, Set<PercpuRefs.InitFlag> init) {
        this.refs = refs;
        this.owner = owner;
        this.release = release;
        this.forceAtomic = init.contains(PercpuRefs.InitFlag.ATOMIC);
        // As percpu_ref_init: a ref that starts atomic or dead may always be reinitialised.
        this.allowReinit = init.contains(PercpuRefs.InitFlag.ALLOW_REINIT) || forceAtomic
                || init.contains(PercpuRefs.InitFlag.DEAD);
        this.percpu = refs.arena.allocLong("percpu_ref of " + owner);
        int f = 0;
        long start = 0;
        if (forceAtomic || init.contains(PercpuRefs.InitFlag.DEAD)) {
            f |= ATOMIC;
        } else {
            start += BIAS;
        }
        if (init.contains(PercpuRefs.InitFlag.DEAD)) {
            f |= DEAD;
        } else {
            start++;
        }
        COUNT.setRelease(this, start);
        FLAGS.setRelease(this, f);
    }

    // ------------------------------------------------------------ get and put (the call path)

    /** {@code percpu_ref_get}: takes a reference. The ref must be live or already held. */
    public void get(ThisCpu cpu) {
        RcuReader r = cpu.rcu();
        r.lock();
        try {
            if ((int) FLAGS.getAcquire(this) == 0) {
                percpu.add(cpu.id(), 1);
            } else {
                atomicAdd(1, "percpu_ref_get");
            }
        } finally {
            r.unlock();
        }
    }

    /** {@code percpu_ref_put}: drops a reference; the release runs if it was the last after a kill. */
    public void put(ThisCpu cpu) {
        RcuReader r = cpu.rcu();
        r.lock();
        boolean percpuMode;
        try {
            percpuMode = (int) FLAGS.getAcquire(this) == 0;
            if (percpuMode) {
                percpu.add(cpu.id(), -1);
            }
        } finally {
            r.unlock();
        }
        if (!percpuMode) {
            // Outside the read section: the release may block or start a grace period.
            atomicPut("percpu_ref_put");
        }
    }

    /** {@code percpu_ref_tryget}: takes a reference unless the count is already zero. */
    public boolean tryGet(ThisCpu cpu) {
        RcuReader r = cpu.rcu();
        r.lock();
        try {
            int f = (int) FLAGS.getAcquire(this);
            if (f == 0) {
                percpu.add(cpu.id(), 1);
                return true;
            }
            return incNotZero(f);
        } finally {
            r.unlock();
        }
    }

    /**
     * {@code percpu_ref_tryget_live}: takes a reference unless the ref has been killed. Once the
     * confirmation of {@link #killAndConfirm} has run, it fails on every CPU.
     */
    public boolean tryGetLive(ThisCpu cpu) {
        RcuReader r = cpu.rcu();
        r.lock();
        try {
            int f = (int) FLAGS.getAcquire(this);
            if (f == 0) {
                percpu.add(cpu.id(), 1);
                return true;
            }
            return (f & DEAD) == 0 && incNotZero(f);
        } finally {
            r.unlock();
        }
    }

    private boolean incNotZero(int f) {
        checkNotExited(f, "percpu_ref_tryget");
        long c;
        do {
            c = (long) COUNT.getVolatile(this);
            if (c == 0) {
                return false;
            }
        } while (!COUNT.compareAndSet(this, c, c + 1));
        return true;
    }

    private void atomicAdd(long n, String op) {
        checkNotExited((int) FLAGS.getAcquire(this), op);
        COUNT.getAndAdd(this, n);
    }

    private void atomicPut(String op) {
        checkNotExited((int) FLAGS.getAcquire(this), op);
        long now = (long) COUNT.getAndAdd(this, -1L) - 1;
        if (now == 0) {
            release.accept(this);
        } else if (now < 0) {
            refs.log.error("percpu_ref", op + " below zero (count " + now + ") on " + this);
            throw new KernelException(Errno.EINVAL, op + " below zero: count " + now + " on " + this);
        }
    }

    private void checkNotExited(int f, String op) {
        if ((f & EXITED) != 0) {
            throw new KernelException(Errno.EINVAL, op + " after percpu_ref_exit on " + this);
        }
    }

    // ------------------------------------------------------------ mode switches

    /**
     * {@code percpu_ref_kill}: drops the initial reference and switches to atomic mode after a grace
     * period, so the count can reach zero and release. Call it once.
     *
     * @throws KernelException EINVAL if the ref was already killed
     */
    public void kill() {
        killAndConfirm(null);
    }

    /**
     * {@code percpu_ref_kill_and_confirm}: {@link #kill()}, and {@code confirmKill} runs (on the RCU
     * callback thread) once every CPU sees the ref dead, after which {@link #tryGetLive} fails
     * everywhere.
     */
    public void killAndConfirm(Consumer<PercpuRef> confirmKill) {
        refs.switchLock.lock();
        try {
            int f = (int) FLAGS.getAcquire(this);
            checkNotExited(f, "percpu_ref_kill");
            if ((f & DEAD) != 0) {
                refs.log.warn("percpu_ref", "percpu_ref_kill_and_confirm called more than once on " + this);
                throw new KernelException(Errno.EINVAL, "percpu_ref_kill called more than once on " + this);
            }
            FLAGS.setRelease(this, f | DEAD);
            switchMode(confirmKill);
            atomicPut("percpu_ref_kill");
        } finally {
            refs.switchLock.unlock();
        }
    }

    /**
     * {@code percpu_ref_switch_to_atomic}: switches to atomic mode after a grace period and stays
     * there across kill and reinit until {@link #switchToPercpu()}. Unless the ref was made with
     * {@code ALLOW_REINIT} (or starts atomic or dead), the switch frees the per-CPU counters, as
     * {@code percpu_ref_call_confirm_rcu} does, and the ref can never go back to percpu mode.
     */
    public void switchToAtomic(Consumer<PercpuRef> confirmSwitch) {
        refs.switchLock.lock();
        try {
            forceAtomic = true;
            switchMode(confirmSwitch);
        } finally {
            refs.switchLock.unlock();
        }
    }

    /** {@code percpu_ref_switch_to_atomic_sync}: {@link #switchToAtomic} and waits for the switch. */
    public void switchToAtomicSync() {
        switchToAtomic(null);
        refs.switchLock.lock();
        try {
            awaitNoSwitch();
        } finally {
            refs.switchLock.unlock();
        }
    }

    /** {@code percpu_ref_switch_to_percpu}: back to percpu mode, unless the ref is dead. */
    public void switchToPercpu() {
        refs.switchLock.lock();
        try {
            forceAtomic = false;
            switchMode(null);
        } finally {
            refs.switchLock.unlock();
        }
    }

    /**
     * {@code percpu_ref_resurrect}: makes a killed (not exited) ref live again, as before the kill.
     *
     * @throws KernelException EINVAL if the ref is not dead, or has exited
     */
    public void resurrect() {
        refs.switchLock.lock();
        try {
            int f = (int) FLAGS.getAcquire(this);
            checkNotExited(f, "percpu_ref_resurrect");
            if ((f & DEAD) == 0) {
                throw new KernelException(Errno.EINVAL, "percpu_ref_resurrect of a ref that is not dead: " + this);
            }
            if (countersFreed && !forceAtomic) {
                throw new KernelException(Errno.EINVAL, "percpu_ref_resurrect of " + this
                        + ", whose per-CPU counters were freed at its kill (init it with ALLOW_REINIT)");
            }
            FLAGS.setRelease(this, f & ~DEAD);
            atomicAdd(1, "percpu_ref_resurrect");
            if (refs.resurrectWithoutSwitchWait && !forceAtomic) {
                // Deliberately broken: a kill's switch to atomic mode may still wait for its grace
                // period, and its per-CPU counts are zeroed before its callback folds them.
                switchToPercpuLocked();
            } else {
                switchMode(null);
            }
        } finally {
            refs.switchLock.unlock();
        }
    }

    /**
     * {@code percpu_ref_reinit}: a ref that was killed and reached zero starts over with a count of 1.
     *
     * @throws KernelException EINVAL if the count is not zero
     */
    public void reinit() {
        if (!isZero()) {
            throw new KernelException(Errno.EINVAL, "percpu_ref_reinit of a ref that is not at zero: " + this);
        }
        resurrect();
    }

    /**
     * {@code percpu_ref_exit}: frees the per-CPU counters. Any later use is an error the model
     * reports ({@code EINVAL}) instead of corrupting memory. A get or put that saw percpu mode
     * before an exit that did not wait for it (no kill, or no grace period) reaches the freed
     * counters, which the arena reports as a KASAN use-after-free.
     */
    public void exit() {
        refs.switchLock.lock();
        try {
            int f = (int) FLAGS.getAcquire(this);
            if ((f & EXITED) != 0) {
                throw new KernelException(Errno.EINVAL, "percpu_ref_exit called twice on " + this);
            }
            if (confirmSwitch != null) {
                refs.log.warn("percpu_ref", "percpu_ref_exit while a mode switch is in progress on " + this);
            }
            FLAGS.setRelease(this, ATOMIC | DEAD | EXITED);
            freeCounters();
        } finally {
            refs.switchLock.unlock();
        }
    }

    /** {@code __percpu_ref_exit}: frees the per-CPU counters once; the switch lock is held. */
    private void freeCounters() {
        if (!countersFreed) {
            countersFreed = true;
            percpu.free();
        }
    }

    /** {@code __percpu_ref_switch_mode}; the switch lock is held. */
    private void switchMode(Consumer<PercpuRef> confirm) {
        awaitNoSwitch();
        int f = (int) FLAGS.getAcquire(this);
        if (forceAtomic || (f & DEAD) != 0) {
            switchToAtomicLocked(confirm);
        } else {
            switchToPercpuLocked();
        }
    }

    /** {@code wait_event_lock_irq(percpu_ref_switch_waitq, !ref->confirm_switch, ...)}. */
    private void awaitNoSwitch() {
        if (confirmSwitch != null) {
            refs.rcu.runBlocking(() -> {
                while (confirmSwitch != null) {
                    refs.switchDone.awaitUninterruptibly();
                }
            });
        }
    }

    private void switchToAtomicLocked(Consumer<PercpuRef> confirm) {
        int f = (int) FLAGS.getAcquire(this);
        if ((f & ATOMIC) != 0) {
            if (confirm != null) {
                confirm.accept(this);
            }
            return;
        }
        FLAGS.setRelease(this, f | ATOMIC);
        confirmSwitch = confirm != null ? confirm : NOOP_CONFIRM;
        COUNT.getAndAdd(this, 1L); // the switch's own reference, put after confirmation
        if (refs.switchWithoutGracePeriod) {
            // Deliberately broken: a CPU may still be adding to its slot while the sum is taken.
            switchToAtomicRcu();
            return;
        }
        refs.rcu.call(this::switchToAtomicRcu);
    }

    /** {@code percpu_ref_switch_to_atomic_rcu}: after the grace period, fold the per-CPU counts in. */
    private void switchToAtomicRcu() {
        long sum = percpu.sum();
        long now = (long) COUNT.getAndAdd(this, sum - BIAS) + sum - BIAS;
        if (now <= 0) {
            refs.log.warn("percpu_ref", "percpu ref " + this + " <= 0 (" + now + ") after switching to atomic");
        }
        Consumer<PercpuRef> confirm;
        refs.switchLock.lock();
        try {
            confirm = confirmSwitch;
        } finally {
            refs.switchLock.unlock();
        }
        confirm.accept(this);
        refs.switchLock.lock();
        try {
            confirmSwitch = null;
            refs.switchDone.signalAll();
            if (!allowReinit) {
                freeCounters();
            }
        } finally {
            refs.switchLock.unlock();
        }
        atomicPut("percpu_ref_switch_to_atomic_rcu");
    }

    /** {@code __percpu_ref_switch_to_percpu}. */
    private void switchToPercpuLocked() {
        int f = (int) FLAGS.getAcquire(this);
        if ((f & ATOMIC) == 0) {
            return;
        }
        if (countersFreed) {
            throw new KernelException(Errno.EINVAL, "percpu mode needs the per-CPU counters, freed at the kill of "
                    + this + " (init it with ALLOW_REINIT to revive it)");
        }
        COUNT.getAndAdd(this, BIAS);
        percpu.zero();
        // Release pairs with the acquire on the fast path: a CPU that sees percpu mode sees zeroed slots.
        FLAGS.setRelease(this, f & ~ATOMIC);
    }

    // ------------------------------------------------------------ queries

    /** {@code percpu_ref_is_zero}: in atomic mode with a count of zero. */
    public boolean isZero() {
        int f = (int) FLAGS.getAcquire(this);
        return (f & ATOMIC) != 0 && (f & EXITED) == 0 && (long) COUNT.getVolatile(this) == 0;
    }

    /** {@code percpu_ref_is_dying}: killed (or initialised dead). */
    public boolean isDying() {
        return ((int) FLAGS.getAcquire(this) & DEAD) != 0;
    }

    /** Whether get and put currently use the per-CPU counters. */
    public boolean isPercpu() {
        return (int) FLAGS.getAcquire(this) == 0;
    }

    /** Whether a switch to atomic mode waits for its grace period. */
    public boolean isSwitching() {
        refs.switchLock.lock();
        try {
            return confirmSwitch != null;
        } finally {
            refs.switchLock.unlock();
        }
    }

    /**
     * The count as a debugger would add it up: exact in atomic mode; in percpu mode a racy sum of
     * the per-CPU parts. For tests and tools, never for decisions.
     */
    public long countForDebug() {
        int f = (int) FLAGS.getAcquire(this);
        // In percpu mode the counters are live: they are freed only after the switch to atomic.
        long c = (long) COUNT.getVolatile(this);
        return (f & ATOMIC) != 0 ? c : c - BIAS + percpu.sum();
    }

    @Override
    public String toString() {
        int f = flags;
        return "percpu_ref@" + Integer.toHexString(System.identityHashCode(this)) + " of " + owner
                + ((f & ATOMIC) != 0 ? " atomic" : " percpu") + ((f & DEAD) != 0 ? " dead" : "")
                + ((f & EXITED) != 0 ? " exited" : "");
    }
}
