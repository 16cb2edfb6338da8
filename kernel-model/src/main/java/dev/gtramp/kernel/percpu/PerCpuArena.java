package dev.gtramp.kernel.percpu;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;

import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * Per-CPU memory, as the kernel's {@code alloc_percpu} gives it: a variable has one slot per CPU,
 * and each CPU's slots live in that CPU's own chunks, so CPUs never share a cache line while
 * variables of one CPU sit side by side (they are only touched by that CPU).
 *
 * <p>Chunks hold {@link #CHUNK_SLOTS} {@code long}s with {@link #PAD} longs of padding at both ends,
 * so the neighbouring objects on the heap never share a line with a slot either. Allocation and free
 * are rare (a percpu_ref per kfunc_md or trampoline image) and take a monitor; access takes none.
 */
public final class PerCpuArena {
    /** Slots per chunk. */
    public static final int CHUNK_SLOTS = 4096;
    /** Padding longs before and after the slots of a chunk: two 64-byte lines. */
    static final int PAD = 16;

    private final int cpus;
    /** {@code chunks[c][cpu]}: chunk c of each CPU. Grown under {@code this}. */
    private long[][][] chunks = new long[0][][];
    private int nextSlot;
    private final ArrayDeque<Integer> freeSlots = new ArrayDeque<>();
    private int live;

    public PerCpuArena(int cpus) {
        if (cpus < 1) {
            throw new KernelException(Errno.EINVAL, "per-cpu arena for " + cpus + " cpus");
        }
        this.cpus = cpus;
    }

    public int cpus() {
        return cpus;
    }

    /** {@code alloc_percpu(unsigned long)}: a per-CPU {@code long}, zero on every CPU. */
    public synchronized PerCpuLong allocLong() {
        Integer reused = freeSlots.poll();
        int slot = reused != null ? reused : nextSlot++;
        int c = slot / CHUNK_SLOTS;
        if (c == chunks.length) {
            long[][] perCpu = new long[cpus][];
            for (int cpu = 0; cpu < cpus; cpu++) {
                perCpu[cpu] = new long[PAD + CHUNK_SLOTS + PAD];
            }
            chunks = Arrays.copyOf(chunks, c + 1);
            chunks[c] = perCpu;
        }
        live++;
        PerCpuLong v = new PerCpuLong(this, slot, chunks[c], PAD + slot % CHUNK_SLOTS);
        v.zero();
        return v;
    }

    synchronized void free(int slot) {
        freeSlots.push(slot);
        live--;
    }

    /** Per-CPU variables allocated and not freed. */
    public synchronized int liveVariables() {
        return live;
    }

    /** Bytes of per-CPU memory reserved, all CPUs and padding included. */
    public synchronized long reservedBytes() {
        return (long) chunks.length * cpus * (PAD + CHUNK_SLOTS + PAD) * Long.BYTES;
    }
}
