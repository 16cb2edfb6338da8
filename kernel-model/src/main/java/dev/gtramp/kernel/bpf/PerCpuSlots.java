package dev.gtramp.kernel.bpf;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * {@code width} u64 slots per CPU in one array laid out {@code [cpu][slot]}, the memory of a
 * per-CPU map ({@code array->pptrs}, which the kernel gets from {@code __alloc_percpu}).
 *
 * <p>Invariant: each CPU's block is followed, and the first block preceded, by at least
 * {@link #PAD} longs (two 64-byte lines) that nothing uses, so two CPUs' slots never share a cache
 * line, nor an adjacent-line prefetch pair, whatever the array's alignment. A CPU's slots are
 * written by the thread bound to it on the program side; the syscall side reads them all and, rarely,
 * writes them.
 */
final class PerCpuSlots {
    /** Unused longs between two CPUs' blocks and before the first: 128 bytes. */
    static final int PAD = 16;
    /** Longs in a 64-byte line: blocks are rounded up to it, so every block starts alike in a line. */
    private static final int LINE = 8;
    /** The longest Java array the JVMs the project runs on allocate. */
    private static final long MAX_LENGTH = Integer.MAX_VALUE - 8;

    private static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] slots;
    private final int cpus;
    private final int stride;

    /** Whether {@link #PerCpuSlots(int, int)} fits one array. */
    static boolean fits(int cpus, int width) {
        return PAD + cpus * stride(width) <= MAX_LENGTH;
    }

    /** Longs from one CPU's first slot to the next CPU's: the slots rounded up to a line, and PAD. */
    private static long stride(int width) {
        return (width + (long) LINE - 1) / LINE * LINE + PAD;
    }

    /** Zeroed slots; callers check {@link #fits} first. */
    PerCpuSlots(int cpus, int width) {
        this.cpus = cpus;
        this.stride = (int) stride(width);
        this.slots = new long[PAD + cpus * stride];
    }

    int cpus() {
        return cpus;
    }

    /** The array index of {@code slot} of {@code cpu}; the caller checked the slot. */
    int index(int cpu, int slot) {
        if (Integer.compareUnsigned(cpu, cpus) >= 0) {
            throw new KernelException(Errno.EINVAL, "cpu " + cpu + " outside [0, " + cpus + ")");
        }
        return PAD + cpu * stride + slot;
    }

    /** {@code per_cpu(slot, cpu)}. */
    long get(int cpu, int slot) {
        // Opaque: never torn or hoisted, and sees the latest write of this slot in time; a reader of
        // another CPU's slot needs no order with other memory.
        return (long) SLOTS.getOpaque(slots, index(cpu, slot));
    }

    /** {@code per_cpu(slot, cpu) = v}. */
    void set(int cpu, int slot, long v) {
        // Opaque: as get.
        SLOTS.setOpaque(slots, index(cpu, slot), v);
    }

    /**
     * {@code this_cpu_add_return(slot, delta)}: must run on {@code cpu}, the caller being bound to it.
     *
     * @return the new value
     */
    long add(int cpu, int slot, long delta) {
        int i = index(cpu, slot);
        // Plain read: the slot's program-side writer is this CPU, so program order shows it its own
        // last write. A syscall write racing the add is lost, as it is in the kernel, whose
        // `*value += delta` is not atomic either.
        long v = (long) SLOTS.get(slots, i) + delta;
        // Opaque write: a reader on another CPU sees the value untorn and eventually; no reader
        // needs it ordered with other memory, so release would only cost on weaker CPUs.
        SLOTS.setOpaque(slots, i, v);
        return v;
    }

    /** Every CPU's value of {@code slot}, in CPU order. */
    long[] values(int slot) {
        long[] out = new long[cpus];
        for (int cpu = 0; cpu < cpus; cpu++) {
            out[cpu] = get(cpu, slot);
        }
        return out;
    }

    /**
     * The sum over every CPU of {@code slot}, wrapping like u64 arithmetic. Each slot is read once,
     * so while CPUs add it is a sum of values each slot had at some moment; after they stop, exact.
     */
    long sum(int slot) {
        long s = 0;
        for (int cpu = 0; cpu < cpus; cpu++) {
            s += get(cpu, slot);
        }
        return s;
    }
}
