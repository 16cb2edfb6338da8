package dev.gtramp.kernel.percpu;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelLog;
import dev.gtramp.kernel.KernelMemory;
import dev.gtramp.kernel.fault.FaultInjector;
import dev.gtramp.kernel.mm.Allocator;
import dev.gtramp.kernel.mm.AllocatorConfig;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Objects;

/**
 * Per-CPU memory, as the kernel's {@code alloc_percpu} gives it: a variable has one slot per CPU,
 * and each CPU's slots live in that CPU's own chunks, so CPUs never share a cache line while
 * variables of one CPU sit side by side (they are only touched by that CPU).
 *
 * <p>Chunks hold {@link #CHUNK_SLOTS} {@code long}s with {@link #PAD} longs of padding at both ends,
 * so the neighbouring objects on the heap never share a line with a slot either. Allocation and free
 * are rare (a percpu_ref per kfunc_md or trampoline image) and take a monitor; access takes none.
 *
 * <p><b>KASAN.</b> Mainline KASAN does not track dynamic per-CPU areas ({@code free_percpu} only
 * clears the chunk's bitmap); the model gives them the slab's checks instead. Each variable is a
 * {@link PerCpuLong} of this arena's {@link Allocator}, accounted under {@link PerCpuLong#TYPE}, so
 * snapshots and leak checks count live per-CPU variables; a freed one is poisoned, and a use after
 * free or a double {@code free_percpu} is a KASAN report of that allocator. A freed slot then waits
 * in a FIFO quarantine of {@link #QUARANTINE_SLOTS}, the bound of {@link KernelMemory}'s, before it
 * is handed out again, as KASAN's quarantine delays the reuse of freed objects: a write that passed
 * its guard just before the free lands in poison, not in a new owner.
 *
 * <p>Invariants, under {@code this}: every slot below {@code nextSlot} is a live variable's, one
 * being freed (between the allocator's free and the quarantine), in {@code quarantine} (oldest
 * first), or in {@code freeSlots}, exactly one of the four; {@code live} counts the first two.
 */
public final class PerCpuArena {
    /** Slots per chunk. */
    public static final int CHUNK_SLOTS = 4096;
    /** Padding longs before and after the slots of a chunk: two 64-byte lines. */
    static final int PAD = 16;
    /** Freed variables kept from reuse; the oldest leaves when another one is freed. */
    public static final int QUARANTINE_SLOTS = KernelMemory.QUARANTINE_BLOCKS;
    /** The label of a variable allocated without one. */
    static final String UNLABELLED = "percpu variable";

    private final int cpus;
    private final Allocator allocator;
    /** {@code chunks[c][cpu]}: chunk c of each CPU. Grown under {@code this}. */
    private long[][][] chunks = new long[0][][];
    private int nextSlot;
    /** Freed variables not yet reusable, oldest first. */
    private final ArrayDeque<PerCpuLong> quarantine = new ArrayDeque<>();
    /** Slots out of quarantine, reused last-in-first-out. */
    private final ArrayDeque<Integer> freeSlots = new ArrayDeque<>();
    private int live;

    /** An arena whose variables {@code allocator} accounts and checks (a kernel's own). */
    public PerCpuArena(int cpus, Allocator allocator) {
        if (cpus < 1) {
            throw new KernelException(Errno.EINVAL, "per-cpu arena for " + cpus + " cpus");
        }
        this.cpus = cpus;
        this.allocator = Objects.requireNonNull(allocator, "allocator");
    }

    /** An arena with an allocator of its own: default config, a private log and no armed faults. */
    public PerCpuArena(int cpus) {
        this(cpus, new Allocator(new KernelLog(false), new FaultInjector(), AllocatorConfig.defaults()));
    }

    public int cpus() {
        return cpus;
    }

    /** The allocator that accounts the variables and reports their misuse. */
    public Allocator allocator() {
        return allocator;
    }

    /** {@code alloc_percpu(unsigned long)}: a per-CPU {@code long}, zero on every CPU. */
    public PerCpuLong allocLong() {
        return allocLong(UNLABELLED);
    }

    /**
     * {@code alloc_percpu(unsigned long)} for {@code label}, which reports about the variable name,
     * e.g. {@code "percpu_ref of kfunc_md bpf_fentry_test1"}. It cannot fail: the model's per-CPU
     * memory is never short, so the allocation consults no fault point.
     */
    public synchronized PerCpuLong allocLong(String label) {
        Objects.requireNonNull(label, "label");
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
        PerCpuLong v = allocator.allocNoFail(new PerCpuLong(this, slot, chunks[c], PAD + slot % CHUNK_SLOTS, label));
        live++;
        v.zero();
        return v;
    }

    /**
     * {@code free_percpu(v)}: the allocator frees and poisons the handle (or reports the double
     * free), then the slot joins the quarantine and the oldest quarantined slot becomes reusable.
     */
    void free(PerCpuLong v) {
        // Outside the monitor: a report may throw, and of two racing frees the allocator's CAS picks one.
        if (!allocator.free(v, "free_percpu of " + v.label())) {
            return;
        }
        synchronized (this) {
            live--;
            quarantine.addLast(v);
            if (quarantine.size() > QUARANTINE_SLOTS) {
                freeSlots.push(quarantine.pollFirst().slot());
            }
        }
    }

    /** Per-CPU variables allocated and not freed. */
    public synchronized int liveVariables() {
        return live;
    }

    /** Freed variables whose slots are not yet reusable. */
    public synchronized int quarantinedVariables() {
        return quarantine.size();
    }

    /** Bytes of per-CPU memory reserved, all CPUs and padding included. */
    public synchronized long reservedBytes() {
        return (long) chunks.length * cpus * (PAD + CHUNK_SLOTS + PAD) * Long.BYTES;
    }
}
