package dev.gtramp.kernel.bpf;

import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * {@code BPF_MAP_TYPE_ARRAY} ({@code kernel/bpf/arraymap.c}): {@code max_entries} u64 values shared
 * by every CPU, zero from creation, never deleted.
 *
 * <p>Program side, the element pointer a program gets from {@code bpf_map_lookup_elem}:
 * {@link #lookup} is {@code *value}, {@link #update} is {@code *value = v} and {@link #fetchAdd} is
 * {@code __sync_fetch_and_add(value, delta)}. None takes a lock or allocates. The syscall side is
 * {@link #lookupElem}, {@link #updateElem}, {@link #deleteElem} and {@link #getNextKey}.
 *
 * <p>Stores are releases and loads acquires, so a reader that sees a value also sees what its
 * writer wrote before it; on x86-64 both are the plain {@code mov} the kernel's C compiles to, and
 * x86's ordering gives the kernel the same guarantee. {@link #fetchAdd} is a volatile
 * {@code getAndAdd}, {@code lock xadd}, the full barrier {@code __sync_fetch_and_add} is.
 */
public final class BpfArrayMap extends ArrayMapBase {
    private static final VarHandle VALUES = MethodHandles.arrayElementVarHandle(long[].class);

    /** {@code array->value}, one u64 per element. */
    private final long[] values;

    private BpfArrayMap(String name, int maxEntries) {
        super(name, BpfMapType.ARRAY, maxEntries);
        this.values = new long[maxEntries];
    }

    /**
     * {@code BPF_MAP_CREATE} of an array of {@code maxEntries} u64 values, all zero.
     *
     * @throws KernelException EINVAL naming the map for a bad name or a {@code maxEntries} that is
     *                         not positive
     */
    public static BpfArrayMap create(Kernel kernel, String name, int maxEntries) {
        Objects.requireNonNull(kernel, "kernel");
        try (Kernel.Operation op = kernel.beginOperation("BPF_MAP_CREATE " + name)) {
            return new BpfArrayMap(name, maxEntries);
        }
    }

    /**
     * {@code *bpf_map_lookup_elem(&map, &key)}.
     *
     * @throws KernelException ENOENT if the key is out of range (the lookup returned NULL)
     */
    public long lookup(int key) {
        // Acquire: pairs with the release of update so the writer's earlier stores are visible.
        return (long) VALUES.getAcquire(values, element(key));
    }

    /**
     * {@code *value = v} through the element pointer.
     *
     * @throws KernelException ENOENT if the key is out of range
     */
    public void update(int key, long value) {
        // Release: orders the program's earlier stores before the value, as x86's stores are.
        VALUES.setRelease(values, element(key), value);
    }

    /**
     * {@code __sync_fetch_and_add(value, delta)}: atomic against every other CPU.
     *
     * @return the value before the add
     * @throws KernelException ENOENT if the key is out of range
     */
    public long fetchAdd(int key, long delta) {
        // Atomic read-modify-write: CPUs adding to one element at once must not lose an add.
        return (long) VALUES.getAndAdd(values, element(key), delta);
    }

    /**
     * {@code BPF_MAP_LOOKUP_ELEM}: the value, or empty for a key out of range (where the command
     * returns ENOENT).
     */
    public OptionalLong lookupElem(int key) {
        if (!contains(key)) {
            return OptionalLong.empty();
        }
        // Acquire: as lookup.
        return OptionalLong.of((long) VALUES.getAcquire(values, key));
    }

    /**
     * {@code BPF_MAP_UPDATE_ELEM} ({@code array_map_update_elem}).
     *
     * @param flags {@link BpfUpdateFlags#BPF_ANY} or {@link BpfUpdateFlags#BPF_EXIST}
     * @throws KernelException EINVAL for other flags, E2BIG for a key out of range, EEXIST for
     *                         {@link BpfUpdateFlags#BPF_NOEXIST} (every element exists)
     */
    public void updateElem(int key, long value, int flags) {
        checkUpdate(key, flags);
        // Release: as update.
        VALUES.setRelease(values, key, value);
    }
}
