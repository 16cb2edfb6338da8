package dev.gtramp.kernel.percpu;

import dev.gtramp.kernel.KernelLog;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.rcu.Rcu;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * What the percpu_refs of one kernel share: the RCU domain whose grace period the switch to atomic
 * mode waits for, the per-CPU arena their counters live in, and {@code percpu_ref_switch_lock} with
 * {@code percpu_ref_switch_waitq}, which serialise mode switches.
 */
public final class PercpuRefs {
    /** {@code PERCPU_REF_INIT_*}. */
    public enum InitFlag {
        /** {@code PERCPU_REF_INIT_ATOMIC}: start, and stay, in atomic mode until switched to percpu. */
        ATOMIC,
        /** {@code PERCPU_REF_INIT_DEAD}: start dead and at zero; {@code percpu_ref_reinit} revives it. */
        DEAD,
        /** {@code PERCPU_REF_ALLOW_REINIT}: keep the per-CPU counters across kill so reinit works. */
        ALLOW_REINIT
    }

    /** The owner of a ref initialised without one. */
    static final String UNNAMED = "an unnamed object";

    final Rcu rcu;
    final PerCpuArena arena;
    final KernelLog log;
    final ReentrantLock switchLock = new ReentrantLock();
    final Condition switchDone = switchLock.newCondition();
    /** {@link UnsafeVariant#PERCPU_REF_KILL_WITHOUT_GRACE_PERIOD}, for the stress suite only. */
    final boolean switchWithoutGracePeriod;
    /** {@link UnsafeVariant#PERCPU_REF_RESURRECT_WITHOUT_SWITCH_WAIT}, for the stress suite only. */
    final boolean resurrectWithoutSwitchWait;

    public PercpuRefs(Rcu rcu, PerCpuArena arena, KernelLog log) {
        this(rcu, arena, log, Set.of());
    }

    /** percpu_refs with deliberately broken behaviour, for the stress suite only. */
    public PercpuRefs(Rcu rcu, PerCpuArena arena, KernelLog log, Set<UnsafeVariant> unsafe) {
        this.rcu = Objects.requireNonNull(rcu, "rcu");
        this.arena = Objects.requireNonNull(arena, "arena");
        this.log = Objects.requireNonNull(log, "log");
        this.switchWithoutGracePeriod = unsafe.contains(UnsafeVariant.PERCPU_REF_KILL_WITHOUT_GRACE_PERIOD);
        this.resurrectWithoutSwitchWait = unsafe.contains(UnsafeVariant.PERCPU_REF_RESURRECT_WITHOUT_SWITCH_WAIT);
    }

    /**
     * {@code percpu_ref_init}: a ref with a count of 1, in percpu mode unless {@code flags} say
     * otherwise. {@code release} runs exactly once when the count reaches zero after a kill, on the
     * thread that dropped the last reference (a CPU or the RCU callback thread); it must not block.
     */
    public PercpuRef init(Consumer<PercpuRef> release, Set<InitFlag> flags) {
        return init(UNNAMED, release, flags);
    }

    /**
     * {@link #init(Consumer, Set)} for the object the ref counts, which names it in messages and
     * its per-CPU counters in KASAN reports, e.g. {@code "kfunc_md bpf_fentry_test1"}.
     */
    public PercpuRef init(String owner, Consumer<PercpuRef> release, Set<InitFlag> flags) {
        return new PercpuRef(this, Objects.requireNonNull(owner, "owner"), Objects.requireNonNull(release, "release"),
                flags.isEmpty() ? EnumSet.noneOf(InitFlag.class) : EnumSet.copyOf(flags));
    }

    /** {@code percpu_ref_init(ref, release, 0, ...)}. */
    public PercpuRef init(Consumer<PercpuRef> release) {
        return init(UNNAMED, release, Set.of());
    }

    /** {@code percpu_ref_init(ref, release, 0, ...)} for {@code owner}, as {@link #init(String, Consumer, Set)}. */
    public PercpuRef init(String owner, Consumer<PercpuRef> release) {
        return init(owner, release, Set.of());
    }

    /** The RCU domain mode switches wait for. */
    public Rcu rcu() {
        return rcu;
    }
}
