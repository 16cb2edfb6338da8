package dev.gtramp.kernel.percpu;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;

import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * Per-CPU objects ({@code DEFINE_PER_CPU(struct foo, ...)}): one instance per CPU, reached by CPU
 * number, each touched only by the thread bound to its CPU.
 *
 * <p>The references sit {@link #STRIDE} array elements apart, so two CPUs' references never share a
 * cache line. The instances are made one after another with a spacer allocated between them, which
 * keeps them on different lines in a fresh allocation buffer; a moving collector keeps that order,
 * so the separation holds in practice, though the JVM does not promise it. Per-CPU counters whose
 * separation must be exact belong in {@link PerCpuArena}.
 *
 * @param <T> the per-CPU type
 */
public final class PerCpu<T> {
    /** Elements between two CPUs' references: 128 bytes even with uncompressed references. */
    static final int STRIDE = 16;
    private static final int SPACER_LONGS = 16;

    private final Object[] slots;
    private final int cpus;

    /** Makes one instance per CPU with {@code factory.apply(cpu)}. */
    public PerCpu(int cpus, IntFunction<? extends T> factory) {
        if (cpus < 1) {
            throw new KernelException(Errno.EINVAL, "per-cpu data for " + cpus + " cpus");
        }
        this.cpus = cpus;
        this.slots = new Object[(cpus + 1) * STRIDE];
        long[][] spacers = new long[cpus][];
        for (int cpu = 0; cpu < cpus; cpu++) {
            slots[(cpu + 1) * STRIDE] = factory.apply(cpu);
            spacers[cpu] = new long[SPACER_LONGS];
        }
    }

    /** {@code per_cpu(var, cpu)}. */
    @SuppressWarnings("unchecked")
    public T get(int cpu) {
        if (cpu < 0 || cpu >= cpus) {
            throw new KernelException(Errno.EINVAL, "cpu " + cpu + " outside [0, " + cpus + ")");
        }
        return (T) slots[(cpu + 1) * STRIDE];
    }

    public int cpus() {
        return cpus;
    }

    /** {@code for_each_possible_cpu}. */
    public void forEach(Consumer<? super T> action) {
        for (int cpu = 0; cpu < cpus; cpu++) {
            action.accept(get(cpu));
        }
    }
}
