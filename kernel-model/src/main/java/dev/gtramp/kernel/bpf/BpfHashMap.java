package dev.gtramp.kernel.bpf;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;
import org.jctools.maps.NonBlockingHashMapLong;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Collections;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * {@code BPF_MAP_TYPE_HASH} ({@code kernel/bpf/hashtab.c}): u64 keys to u64 values, at most
 * {@code max_entries} of them, fixed at creation. An insert into a full map fails with E2BIG.
 *
 * <p>The table is a JCTools {@link NonBlockingHashMapLong}, sized at creation for
 * {@code max_entries}, from key to a {@link HtabElem}. Lookups are lock-free, as the kernel's RCU
 * walk of a bucket is; the kernel's inserts and deletes take the bucket's spin lock, the model's are
 * lock-free CASes.
 *
 * <p>Invariants:
 * <ul>
 *   <li>An element, once in the table, is the key's value cell until the key is deleted: an update
 *       of an existing key stores into it in place, so {@link #fetchAdd} is atomic against every
 *       other update of the key. (The kernel's update without {@code BPF_F_LOCK} links a new element
 *       instead; a program's {@code __sync_fetch_and_add} through a pointer it looked up before may
 *       then land in the unlinked one and be lost. The model has no such window.)</li>
 *   <li>{@link #count}, {@code htab->count}, is at most {@code max_entries} and at least the number
 *       of elements: an insert reserves a unit of it before it links its element and gives it back
 *       if it loses a race to link the key; a delete gives it back after unlinking. So the table
 *       never holds more than {@code max_entries} elements, whatever the concurrency, as
 *       {@code alloc_htab_elem}'s {@code is_map_full} check keeps it.</li>
 *   <li>A deleted element is never reused, unlike a preallocated map's, whose elements go back to
 *       the free list at once, so a program racing a delete never writes another key's value.</li>
 * </ul>
 *
 * <p>One difference from the bucket lock remains: when the map is one element short of full and two
 * CPUs insert the same new key at once, the one that finds no unit to reserve returns E2BIG unless
 * the other has linked the key by the time it looks again; in the kernel the second would update.
 */
public final class BpfHashMap extends BpfMap {
    private static final VarHandle COUNT;

    static {
        try {
            COUNT = MethodHandles.lookup().findVarHandle(BpfHashMap.class, "count", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** {@code htab->buckets}: key to element. */
    private final NonBlockingHashMapLong<HtabElem> table;
    /** {@code htab->count}: elements linked plus inserts in flight. Accessed through {@link #COUNT}. */
    @SuppressWarnings("unused")
    private int count;

    private BpfHashMap(String name, int maxEntries) {
        super(name, BpfMapType.HASH, maxEntries);
        this.table = new NonBlockingHashMapLong<>(maxEntries);
    }

    /**
     * {@code BPF_MAP_CREATE} of an empty hash map of at most {@code maxEntries} elements.
     *
     * @throws KernelException EINVAL naming the map for a bad name or a {@code maxEntries} that is
     *                         not positive
     */
    public static BpfHashMap create(Kernel kernel, String name, int maxEntries) {
        Objects.requireNonNull(kernel, "kernel");
        try (Kernel.Operation op = kernel.beginOperation("BPF_MAP_CREATE " + name)) {
            return new BpfHashMap(name, maxEntries);
        }
    }

    /** Whether {@code bpf_map_lookup_elem} would return an element. */
    public boolean contains(long key) {
        return table.containsKey(key);
    }

    /** {@code *bpf_map_lookup_elem(&map, &key)}, or {@code dflt} where the lookup returns NULL. */
    public long lookupOrDefault(long key, long dflt) {
        HtabElem e = table.get(key);
        return e == null ? dflt : e.get();
    }

    /**
     * {@code bpf_map_update_elem(&map, &key, &value, flags)} ({@code htab_map_update_elem}).
     *
     * @return 0, or {@code -EINVAL} for flags other than the three {@link BpfUpdateFlags},
     *         {@code -EEXIST} for {@link BpfUpdateFlags#BPF_NOEXIST} on an existing key,
     *         {@code -ENOENT} for {@link BpfUpdateFlags#BPF_EXIST} on a missing one, {@code -E2BIG}
     *         if the key is missing and the map is full
     */
    public int update(long key, long value, int flags) {
        if (!BpfUpdateFlags.isValid(flags)) {
            return -Errno.EINVAL.code();
        }
        HtabElem e = table.get(key);
        if (e != null) {
            return updateExisting(e, value, flags);
        }
        if (flags == BpfUpdateFlags.BPF_EXIST) {
            return -Errno.ENOENT.code();
        }
        // Reserve before linking, so the table never holds more than max_entries. Atomic: CPUs
        // inserting at once must each get a unit of their own.
        if ((int) COUNT.getAndAdd(this, 1) >= maxEntries()) {
            // Atomic: gives the unit back; another CPU may be reserving or releasing at once.
            COUNT.getAndAdd(this, -1);
            e = table.get(key);
            return e == null ? -Errno.E2BIG.code() : updateExisting(e, value, flags);
        }
        // The element's value is written before putIfAbsent publishes it with a CAS.
        e = table.putIfAbsent(key, new HtabElem(value));
        if (e == null) {
            return 0;
        }
        // Another CPU linked the key first: this update comes after its insert. Atomic, as above.
        COUNT.getAndAdd(this, -1);
        return updateExisting(e, value, flags);
    }

    private static int updateExisting(HtabElem e, long value, int flags) {
        if (flags == BpfUpdateFlags.BPF_NOEXIST) {
            return -Errno.EEXIST.code();
        }
        e.set(value);
        return 0;
    }

    /**
     * {@code __sync_fetch_and_add(bpf_map_lookup_elem(&map, &key), delta)}: atomic against every
     * other update of the key.
     *
     * @return the value before the add
     * @throws KernelException ENOENT naming the map and key if the key is missing: the lookup
     *                         returned NULL, which a verified program checks before adding, so
     *                         adding to it is the program's bug, not an outcome to return
     */
    public long fetchAdd(long key, long delta) {
        HtabElem e = table.get(key);
        if (e == null) {
            throw noSuchKey(key);
        }
        return e.fetchAdd(delta);
    }

    /**
     * {@code bpf_map_delete_elem(&map, &key)} ({@code htab_map_delete_elem}).
     *
     * @return 0, or {@code -ENOENT} if the key is missing
     */
    public int delete(long key) {
        if (table.remove(key) == null) {
            return -Errno.ENOENT.code();
        }
        // Atomic: gives back the unit the insert reserved, now that the element is unlinked.
        COUNT.getAndAdd(this, -1);
        return 0;
    }

    /** {@code BPF_MAP_LOOKUP_ELEM}: the value, or empty where the command returns ENOENT. */
    public OptionalLong lookupElem(long key) {
        HtabElem e = table.get(key);
        return e == null ? OptionalLong.empty() : OptionalLong.of(e.get());
    }

    /**
     * {@code BPF_MAP_UPDATE_ELEM}: {@link #update} for the syscall.
     *
     * @throws KernelException with the errno {@link #update} returns and a message naming the map
     *                         and the key
     */
    public void updateElem(long key, long value, int flags) {
        int rc = update(key, value, flags);
        if (rc == 0) {
            return;
        }
        Errno errno = Errno.of(rc);
        switch (errno) {
            case EINVAL -> throw badFlags(flags);
            case EEXIST -> throw error(errno, "key " + key + " exists and BPF_NOEXIST was given");
            case ENOENT -> throw error(errno, "key " + key + " does not exist and BPF_EXIST was given");
            default -> throw error(errno, "key " + key + ": the map is full (" + maxEntries() + " elements)");
        }
    }

    /**
     * {@code BPF_MAP_DELETE_ELEM}: {@link #delete} for the syscall.
     *
     * @throws KernelException ENOENT naming the map and key if the key is missing
     */
    public void deleteElem(long key) {
        if (delete(key) != 0) {
            throw noSuchKey(key);
        }
    }

    /**
     * {@code BPF_MAP_GET_NEXT_KEY} ({@code htab_map_get_next_key}): the first key for a null key or
     * one that is missing, else the key after {@code key} in the table's order. Walking from null
     * to ENOENT visits every key once if nothing is inserted or deleted meanwhile; a walk concurrent
     * with updates may miss or repeat keys, as the kernel's may. Each call walks the table up to
     * {@code key}, a syscall's cost.
     *
     * @throws KernelException ENOENT if {@code key} is the last key or the map is empty
     */
    public long getNextKey(Long key) {
        Iterator<Long> it = table.keySet().iterator();
        if (!it.hasNext()) {
            throw error(Errno.ENOENT, "the map is empty");
        }
        long first = it.next();
        if (key == null) {
            return first;
        }
        for (long k = first; k != key; k = it.next()) {
            if (!it.hasNext()) {
                return first;
            }
        }
        if (!it.hasNext()) {
            throw error(Errno.ENOENT, "key " + key + " is the last");
        }
        return it.next();
    }

    /**
     * The number of elements, {@code htab->count}: exact when no update runs; during updates it
     * also counts the inserts in flight.
     */
    public int size() {
        // Volatile: a syscall read, ordered after whatever the caller did before it (joined CPUs).
        return (int) COUNT.getVolatile(this);
    }

    /**
     * Every key and value, sorted by key: what a dump through {@code BPF_MAP_GET_NEXT_KEY} and
     * {@code BPF_MAP_LOOKUP_ELEM} gives. Each element is read once; concurrent updates may or may
     * not show.
     */
    public Map<Long, Long> snapshot() {
        Map<Long, Long> out = new TreeMap<>();
        for (Map.Entry<Long, HtabElem> en : table.entrySet()) {
            out.put(en.getKey(), en.getValue().get());
        }
        return Collections.unmodifiableMap(out);
    }

    private KernelException noSuchKey(long key) {
        return error(Errno.ENOENT, "key " + key + " does not exist");
    }

    /** {@code struct htab_elem}: one key's value cell, stable while the key is linked. */
    private static final class HtabElem {
        private static final VarHandle VALUE;

        static {
            try {
                VALUE = MethodHandles.lookup().findVarHandle(HtabElem.class, "value", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        /** Written plain before the element is published; then through {@link #VALUE} only. */
        @SuppressWarnings("unused")
        private long value;

        HtabElem(long value) {
            this.value = value;
        }

        long get() {
            // Acquire: pairs with set's release, as on the array map.
            return (long) VALUE.getAcquire(this);
        }

        void set(long v) {
            // Release: the program's earlier stores become visible with the value.
            VALUE.setRelease(this, v);
        }

        long fetchAdd(long delta) {
            // Atomic read-modify-write: adds on different CPUs must not be lost.
            return (long) VALUE.getAndAdd(this, delta);
        }
    }
}
