package dev.gtramp.kernel.percpu;

import dev.gtramp.kernel.KernelMemory;
import dev.gtramp.kernel.mm.KernelObject;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A per-CPU {@code unsigned long}: {@code this_cpu_add} on the running CPU's slot and
 * {@code for_each_possible_cpu} sums over all of them.
 *
 * <p>Each slot has one writer, the thread bound to its CPU, so {@link #add} is a read and a write
 * of that slot, not an atomic operation, like {@code this_cpu_add}. Both are opaque: a plain
 * {@code mov} on x86, but never torn, cached in a register or dropped by the JIT, so a concurrent
 * {@link #sum()} sees each slot's latest value in some order. A sum that must be exact, like the
 * one {@code percpu_ref} takes, gets its ordering from an RCU grace period, not from this class.
 *
 * <p><b>Lifetime.</b> This object is the handle {@code alloc_percpu} returned, and a
 * {@link KernelObject} of the arena's allocator under the type {@link #TYPE}: live from
 * {@link PerCpuArena#allocLong} until {@link #free()}, freed for ever after. A handle is never
 * reused (a reused slot gets a new handle), so every access through a freed handle, however late,
 * is reported as a KASAN use-after-free naming {@link #label()} and the freeing thread, and a second
 * {@code free_percpu} as a double free. Unless the report throws (it does by default), the access
 * is dropped: a write does nothing and a read returns {@link #POISON}, so a reported bug never
 * corrupts the slot's next owner. On free every CPU's slot is filled with {@link #POISON}.
 */
public final class PerCpuLong extends KernelObject {
    /** The allocator type of every per-CPU allocation: one usage line, as {@code Percpu:} of {@code /proc/meminfo}. */
    public static final String TYPE = "percpu";
    /** What a freed slot holds, and a dropped stale read returns: {@code POISON_FREE} in every byte. */
    public static final long POISON = 0x0101010101010101L * (KernelMemory.POISON_FREE & 0xff);

    private static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(long[].class);

    private final PerCpuArena arena;
    private final int slot;
    private final long[][] byCpu;
    private final int index;
    private final String label;

    PerCpuLong(PerCpuArena arena, int slot, long[][] byCpu, int index, String label) {
        super(TYPE, (long) byCpu.length * Long.BYTES);
        this.arena = arena;
        this.slot = slot;
        this.byCpu = byCpu;
        this.index = index;
        this.label = label;
    }

    /*
     * The guard of each access is KernelObject's: one acquire load of the lifetime, compared with a
     * constant (a plain mov and a branch on x86-64), no lock, no allocation. Acquire suffices for the
     * reason KernelObject gives: a correct free is ordered after every legitimate access by a grace
     * period or the last reference, so the guard only has to catch the accesses that are not.
     */

    /** {@code this_cpu_add}: must run on {@code cpu} (the caller is bound to it). */
    public void add(int cpu, long delta) {
        if (!isLive()) {
            staleAccess("this_cpu_add");
            return;
        }
        long[] a = byCpu[cpu];
        SLOTS.setOpaque(a, index, (long) SLOTS.getOpaque(a, index) + delta);
    }

    /** {@code per_cpu(var, cpu)}. */
    public long get(int cpu) {
        if (!isLive()) {
            staleAccess("per_cpu");
            return POISON;
        }
        return (long) SLOTS.getOpaque(byCpu[cpu], index);
    }

    /** The sum over every CPU, wrapping like unsigned arithmetic does. */
    public long sum() {
        if (!isLive()) {
            staleAccess("for_each_possible_cpu sum");
            return POISON;
        }
        long s = 0;
        for (long[] a : byCpu) {
            s += (long) SLOTS.getOpaque(a, index);
        }
        return s;
    }

    /** Sets every CPU's slot to 0. */
    public void zero() {
        if (!isLive()) {
            staleAccess("per-cpu memset");
            return;
        }
        fill(0L);
    }

    /**
     * {@code free_percpu}: poisons the slots and hands them to the arena's quarantine.
     *
     * @throws dev.gtramp.kernel.mm.KasanException a double free, if the allocator throws on violations
     */
    public void free() {
        arena.free(this);
    }

    /** What the variable is for, as reports name it, e.g. {@code "percpu_ref of kfunc_md bpf_fentry_test1"}. */
    public String label() {
        return label;
    }

    int slot() {
        return slot;
    }

    /** Called once by the allocator's free, after this handle became freed. */
    @Override
    protected void poison() {
        fill(POISON);
    }

    private void fill(long value) {
        for (long[] a : byCpu) {
            SLOTS.setOpaque(a, index, value);
        }
    }

    /** The slow path: the report names the operation and the variable, built only now. */
    private void staleAccess(String op) {
        checkLive(op + " of " + label);
    }

    @Override
    public String toString() {
        return label + " (percpu slot " + slot + (isLive() ? ")" : ", freed)");
    }
}
