package dev.gtramp.kernel.rcu;

import dev.gtramp.kernel.KernelLog;
import dev.gtramp.kernel.UnsafeVariant;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * What an RCU domain is built from: its flavor and name ({@code rcu_sched}, {@code rcu_preempt},
 * {@code rcu_tasks}), the log its stall warnings go to, the stall timeout
 * ({@code rcu_cpu_stall_timeout}), and for the stress suite the deliberately broken behaviour it
 * runs, whether its callbacks run on a thread of their own or only when asked
 * ({@link AbstractRcu#runPendingCallbacks()}), and the count its callbacks are kept in together with
 * those of other domains ({@link RcuCallbacksInFlight}). {@link #create()} builds the flavor's
 * domain: {@link EpochRcu} for {@link RcuFlavor#GENERAL}, {@link QsbrRcu} for the others.
 *
 * @param unsafe          deliberately broken behaviour, for the stress suite only; empty otherwise
 * @param manualCallbacks no callback thread: callbacks run in {@link AbstractRcu#runPendingCallbacks()}
 * @param inFlight        shared with the other domains of one kernel, so that its close can wait
 *                        for chains of callbacks that cross them
 */
public record RcuDomainSpec(RcuFlavor flavor, String name, KernelLog log, Duration stallTimeout,
                            Set<UnsafeVariant> unsafe, boolean manualCallbacks, RcuCallbacksInFlight inFlight) {
    public RcuDomainSpec {
        Objects.requireNonNull(flavor, "flavor");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(log, "log");
        Objects.requireNonNull(stallTimeout, "stallTimeout");
        Objects.requireNonNull(inFlight, "inFlight");
        unsafe = unsafe.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(unsafe));
    }

    /** A domain of {@code flavor} under the kernel's name for it, correct, with a callback thread. */
    public static RcuDomainSpec of(RcuFlavor flavor, KernelLog log, Duration stallTimeout) {
        return new RcuDomainSpec(flavor, flavor.kernelName(), log, stallTimeout, Set.of(), false,
                new RcuCallbacksInFlight());
    }

    public RcuDomainSpec named(String name) {
        return new RcuDomainSpec(flavor, name, log, stallTimeout, unsafe, manualCallbacks, inFlight);
    }

    public RcuDomainSpec withUnsafe(Set<UnsafeVariant> unsafe) {
        return new RcuDomainSpec(flavor, name, log, stallTimeout, unsafe, manualCallbacks, inFlight);
    }

    public RcuDomainSpec withManualCallbacks(boolean manualCallbacks) {
        return new RcuDomainSpec(flavor, name, log, stallTimeout, unsafe, manualCallbacks, inFlight);
    }

    public RcuDomainSpec withInFlight(RcuCallbacksInFlight inFlight) {
        return new RcuDomainSpec(flavor, name, log, stallTimeout, unsafe, manualCallbacks, inFlight);
    }

    /** The flavor's domain. */
    public AbstractRcu create() {
        return flavor == RcuFlavor.GENERAL ? new EpochRcu(this) : new QsbrRcu(this);
    }
}
