package dev.gtramp.kernel.bpf;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.percpu.ThisCpu;

import java.util.Objects;

/**
 * {@code BPF_MAP_TYPE_PERCPU_ARRAY} ({@code kernel/bpf/arraymap.c}): {@code max_entries} elements,
 * each a u64 per possible CPU. A program sees only the running CPU's value
 * ({@code percpu_array_map_lookup_elem} is {@code this_cpu_ptr(array->pptrs[index])}); the syscall
 * side sees all of them, {@code value_size * num_possible_cpus()} bytes per element.
 *
 * <p>Invariants: one slot per CPU per key, laid out {@code [cpu][key]} with every CPU's keys on
 * cache lines of their own ({@link PerCpuSlots}); a CPU's slots are written program-side only by the
 * thread bound to that CPU, so {@link #add} is a read and a write, not an atomic operation, like the
 * {@code *value += delta} a program does. Slots are read and written opaque: untorn and never cached
 * by the JIT, in no order with other memory, which no per-CPU reader needs.
 *
 * <p>The syscall's {@link #updateElem} writes other CPUs' slots while their programs may run; an
 * add racing it can lose the update, as it can in the kernel ({@code bpf_percpu_array_update} copies
 * into live per-CPU memory too).
 */
public final class BpfPercpuArrayMap extends ArrayMapBase {
    private final PerCpuSlots slots;

    private BpfPercpuArrayMap(String name, int maxEntries, int cpus) {
        super(name, BpfMapType.PERCPU_ARRAY, maxEntries);
        if (!PerCpuSlots.fits(cpus, maxEntries)) {
            throw error(Errno.E2BIG, maxEntries + " entries on " + cpus + " cpus do not fit one array");
        }
        this.slots = new PerCpuSlots(cpus, maxEntries);
    }

    /**
     * {@code BPF_MAP_CREATE} of a per-CPU array of {@code maxEntries} elements, one u64 per CPU of
     * {@code kernel} ({@code num_possible_cpus()} is {@link Kernel#cpuCount()}), all zero.
     *
     * @throws KernelException EINVAL naming the map for a bad name or a {@code maxEntries} that is
     *                         not positive; E2BIG if the map is too large for one Java array
     */
    public static BpfPercpuArrayMap create(Kernel kernel, String name, int maxEntries) {
        Objects.requireNonNull(kernel, "kernel");
        try (Kernel.Operation op = kernel.beginOperation("BPF_MAP_CREATE " + name)) {
            return new BpfPercpuArrayMap(name, maxEntries, kernel.cpuCount());
        }
    }

    /** The number of CPUs, the length of {@link #lookupElem}'s result. */
    public int cpus() {
        return slots.cpus();
    }

    /**
     * {@code *bpf_map_lookup_elem(&map, &key)} on the running CPU: its own value.
     *
     * @throws KernelException ENOENT if the key is out of range
     */
    public long lookup(ThisCpu cpu, int key) {
        return slots.get(cpu.id(), element(key));
    }

    /**
     * {@code *value = v} on the running CPU.
     *
     * @throws KernelException ENOENT if the key is out of range
     */
    public void update(ThisCpu cpu, int key, long v) {
        slots.set(cpu.id(), element(key), v);
    }

    /**
     * {@code *value += delta} on the running CPU, which must be the caller's bound CPU.
     *
     * @return the new value
     * @throws KernelException ENOENT if the key is out of range
     */
    public long add(ThisCpu cpu, int key, long delta) {
        return slots.add(cpu.id(), element(key), delta);
    }

    /**
     * {@code BPF_MAP_LOOKUP_ELEM} ({@code bpf_percpu_array_copy}): every CPU's value, in CPU order.
     *
     * @throws KernelException ENOENT if the key is out of range
     */
    public long[] lookupElem(int key) {
        return slots.values(element(key));
    }

    /**
     * The sum of every CPU's value, what a tool that reads a per-CPU counter prints.
     *
     * @throws KernelException ENOENT if the key is out of range
     */
    public long sum(int key) {
        return slots.sum(element(key));
    }

    /**
     * {@code BPF_MAP_UPDATE_ELEM} ({@code bpf_percpu_array_update}): sets every CPU's value.
     *
     * @param perCpuValues one value per CPU, in CPU order
     * @throws KernelException EINVAL for flags other than {@link BpfUpdateFlags#BPF_ANY} and
     *                         {@link BpfUpdateFlags#BPF_EXIST} or a value array whose length is not
     *                         {@link #cpus()}, E2BIG for a key out of range, EEXIST for
     *                         {@link BpfUpdateFlags#BPF_NOEXIST}
     */
    public void updateElem(int key, long[] perCpuValues, int flags) {
        checkUpdate(key, flags);
        if (perCpuValues.length != slots.cpus()) {
            throw error(Errno.EINVAL, "key " + key + ": " + perCpuValues.length + " values for "
                    + slots.cpus() + " cpus");
        }
        for (int cpu = 0; cpu < perCpuValues.length; cpu++) {
            slots.set(cpu, key, perCpuValues[cpu]);
        }
    }
}
