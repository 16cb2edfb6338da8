package dev.gtramp.kernel;

/**
 * How a {@link Kernel} is built. Immutable; derive variants with the {@code with...} methods.
 *
 * @param cpus the number of simulated CPUs (like {@code nr_cpu_ids}), 1 to {@link #MAX_CPUS}
 */
public record KernelConfig(int cpus) {
    /** The most simulated CPUs a kernel may have. */
    public static final int MAX_CPUS = 256;

    public KernelConfig {
        if (cpus < 1 || cpus > MAX_CPUS) {
            throw new KernelException(Errno.EINVAL, "cpus = " + cpus + " outside [1, " + MAX_CPUS + "]");
        }
    }

    /** Two CPUs, the size of the machines the project is tested on. */
    public static KernelConfig defaults() {
        return new KernelConfig(2);
    }

    public KernelConfig withCpus(int n) {
        return new KernelConfig(n);
    }
}
