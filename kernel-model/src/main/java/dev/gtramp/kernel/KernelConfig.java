package dev.gtramp.kernel;

import dev.gtramp.kernel.mm.AllocatorConfig;
import dev.gtramp.kernel.rcu.RcuFlavor;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * How a {@link Kernel} is built. Immutable; derive variants with the {@code with...} methods.
 *
 * @param cpus            the number of simulated CPUs (like {@code nr_cpu_ids}), 1 to {@link #MAX_CPUS}
 * @param rcuFlavor       the kernel's RCU: {@link RcuFlavor#QSBR} (as without preemption, free read
 *                        side) or {@link RcuFlavor#GENERAL} (as {@code CONFIG_PREEMPT_RCU})
 * @param rcuStallTimeout how long a grace period waits before it logs a stall warning naming the
 *                        CPU it waits for ({@code CONFIG_RCU_CPU_STALL_TIMEOUT}, 21 s by default)
 * @param allocator       how the kernel's allocator reacts to the memory bugs it detects
 * @param unsafeVariants  deliberately broken algorithms, for the stress suite only; empty otherwise
 * @param manualRcuCallbacks whether RCU callbacks wait for {@code Rcu.runPendingCallbacks()} instead
 *                        of running on a callback thread per domain: for stress trials, which boot
 *                        many small kernels and cannot afford threads for each
 */
public record KernelConfig(int cpus, RcuFlavor rcuFlavor, Duration rcuStallTimeout, AllocatorConfig allocator,
                           Set<UnsafeVariant> unsafeVariants, boolean manualRcuCallbacks) {
    /** The most simulated CPUs a kernel may have. */
    public static final int MAX_CPUS = 256;

    public KernelConfig {
        if (cpus < 1 || cpus > MAX_CPUS) {
            throw new KernelException(Errno.EINVAL, "cpus = " + cpus + " outside [1, " + MAX_CPUS + "]");
        }
        Objects.requireNonNull(rcuFlavor, "rcuFlavor");
        if (rcuFlavor == RcuFlavor.TASKS) {
            throw new KernelException(Errno.EINVAL, "rcuFlavor TASKS: tasks RCU is the trampolines' flavor, "
                    + "every kernel has it beside its main RCU (QSBR or GENERAL)");
        }
        if (rcuStallTimeout == null || rcuStallTimeout.isNegative() || rcuStallTimeout.isZero()) {
            throw new KernelException(Errno.EINVAL, "rcuStallTimeout must be positive, was " + rcuStallTimeout);
        }
        Objects.requireNonNull(allocator, "allocator");
        unsafeVariants = unsafeVariants.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(unsafeVariants));
    }

    /**
     * Two CPUs (the size of the machines the project is tested on), QSBR, a 21 s stall timeout, an
     * allocator that throws on the bugs it detects.
     */
    public static KernelConfig defaults() {
        return new KernelConfig(2, RcuFlavor.QSBR, Duration.ofSeconds(21), AllocatorConfig.defaults(), Set.of(), false);
    }

    public KernelConfig withCpus(int n) {
        return new KernelConfig(n, rcuFlavor, rcuStallTimeout, allocator, unsafeVariants, manualRcuCallbacks);
    }

    public KernelConfig withRcu(RcuFlavor flavor) {
        return new KernelConfig(cpus, flavor, rcuStallTimeout, allocator, unsafeVariants, manualRcuCallbacks);
    }

    public KernelConfig withRcuStallTimeout(Duration timeout) {
        return new KernelConfig(cpus, rcuFlavor, timeout, allocator, unsafeVariants, manualRcuCallbacks);
    }

    public KernelConfig withAllocator(AllocatorConfig config) {
        return new KernelConfig(cpus, rcuFlavor, rcuStallTimeout, config, unsafeVariants, manualRcuCallbacks);
    }

    /** The same configuration with deliberately broken algorithms: for the stress suite only. */
    public KernelConfig withUnsafeVariants(Set<UnsafeVariant> variants) {
        return new KernelConfig(cpus, rcuFlavor, rcuStallTimeout, allocator, variants, manualRcuCallbacks);
    }

    /** The same configuration with RCU callbacks run only by {@code Rcu.runPendingCallbacks()}. */
    public KernelConfig withManualRcuCallbacks(boolean manual) {
        return new KernelConfig(cpus, rcuFlavor, rcuStallTimeout, allocator, unsafeVariants, manual);
    }
}
