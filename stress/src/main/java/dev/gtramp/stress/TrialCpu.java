package dev.gtramp.stress;

import dev.gtramp.kernel.percpu.ThisCpu;
import dev.gtramp.kernel.rcu.RcuContext;
import dev.gtramp.kernel.rcu.RcuReader;

/**
 * A simulated CPU of one trial (or, for preemptible RCU, a reader that can be preempted and resume
 * elsewhere): a reader of the trial's RCU domain and a slot index for per-CPU variables, without a
 * kernel image, frames or a call path.
 *
 * <p>jcstress runs an actor on whichever of its threads it likes, and a new one in each trial, so
 * the owner is not fixed at construction: an actor {@linkplain #bind() binds} the CPU to its own
 * thread first and {@linkplain #unbind() unbinds} it last, as {@code Kernel.bindCpu} and
 * {@code Cpu.close} do. A QSBR reader must be offline (or report a quiescent state) when its actor
 * ends, or a grace period in the other actor would wait for it forever.
 *
 * <p>{@link #readLock()} and {@link #readUnlock()} delimit a read-side critical section the way a
 * kernel call on a model CPU does: {@code rcu_read_lock} inside the call, and a quiescent state at the
 * end of the outermost call. So one pair works for both flavors: for QSBR the section ends at the
 * quiescent state, for the general flavor at the unlock.
 */
public final class TrialCpu implements RcuContext, ThisCpu {
    private final int id;
    private final String name;
    /** Set once by {@link TrialDomain}, right after construction and before publication. */
    private RcuReader rcu;
    private volatile Thread owner;
    /** Owner-only: read-side nesting, as a CPU's call depth. */
    private int depth;

    TrialCpu(int id, String name) {
        this.id = id;
        this.name = name;
    }

    void attach(RcuReader reader) {
        this.rcu = reader;
    }

    @Override
    public int id() {
        return id;
    }

    @Override
    public RcuReader rcu() {
        return rcu;
    }

    /** The calling thread now runs on this CPU, which comes online for RCU ({@code rcu_thread_online}). */
    public void bind() {
        owner = Thread.currentThread();
        rcu.online();
    }

    /** The CPU goes offline for RCU and has no thread any more. */
    public void unbind() {
        rcu.offline();
        owner = null;
    }

    /**
     * The calling thread takes over the CPU (or reader) without changing its RCU state, e.g. a reader
     * that was brought online, or locked, before the trial started, or a preempted reader resuming.
     */
    public void claim() {
        owner = Thread.currentThread();
    }

    /** No thread runs the CPU (or reader) for now; its RCU state is left as it is (a preempted reader). */
    public void disown() {
        owner = null;
    }

    /** {@code rcu_read_lock()} on this CPU, as a kernel call's body takes it. */
    public void readLock() {
        depth++;
        rcu.lock();
    }

    /** {@code rcu_read_unlock()}; at the outermost level the CPU also reports a quiescent state. */
    public void readUnlock() {
        rcu.unlock();
        if (--depth == 0) {
            rcu.quiescentState();
        }
    }

    @Override
    public Thread owner() {
        return owner;
    }

    @Override
    public boolean inKernel() {
        return depth > 0;
    }

    @Override
    public String describe() {
        Thread t = owner;
        return name + " (" + (t == null ? "no thread" : "thread " + t.getName()) + ")";
    }

    @Override
    public String toString() {
        return name;
    }
}
