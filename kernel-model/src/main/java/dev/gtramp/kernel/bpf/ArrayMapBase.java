package dev.gtramp.kernel.bpf;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;

/**
 * {@code struct bpf_array} and the {@code array_map_*} operations that {@link BpfArrayMap} and
 * {@link BpfPercpuArrayMap} share. Keys are the kernel's {@code u32} index: a negative Java
 * {@code int} is an index of 2^31 or more, so it is out of range like any index at or past
 * {@code max_entries}. Every in-range element exists from creation on and none can be deleted.
 *
 * <p>Program-side access goes through the element pointer {@code bpf_map_lookup_elem} returns, which
 * is NULL for an index out of range; a verified program checks it, so there a key out of range is a
 * bug and throws {@code ENOENT}.
 */
abstract sealed class ArrayMapBase extends BpfMap permits BpfArrayMap, BpfPercpuArrayMap {

    ArrayMapBase(String name, BpfMapType type, int maxEntries) {
        super(name, type, maxEntries);
    }

    /**
     * Whether {@code key} names an element: {@code index < array->map.max_entries}, where
     * {@code array_map_lookup_elem} returns a pointer rather than NULL.
     */
    public final boolean contains(int key) {
        return Integer.compareUnsigned(key, maxEntries()) < 0;
    }

    /**
     * {@code BPF_MAP_GET_NEXT_KEY} ({@code array_map_get_next_key}): 0 for a null key or one out of
     * range, else the next index.
     *
     * @throws KernelException ENOENT if {@code key} is the last index
     */
    public final int getNextKey(Integer key) {
        if (key == null || !contains(key)) {
            return 0;
        }
        if (key == maxEntries() - 1) {
            throw error(Errno.ENOENT, "key " + key + " is the last");
        }
        return key + 1;
    }

    /**
     * {@code BPF_MAP_DELETE_ELEM} ({@code array_map_delete_elem}): arrays cannot delete.
     *
     * @throws KernelException EINVAL, always
     */
    public final void deleteElem(int key) {
        throw error(Errno.EINVAL, "key " + Integer.toUnsignedString(key) + ": array elements cannot be deleted");
    }

    /** {@code key} as an element index, or ENOENT, the NULL of a lookup, if it is out of range. */
    final int element(int key) {
        if (!contains(key)) {
            throw outOfRange(Errno.ENOENT, key);
        }
        return key;
    }

    /**
     * The checks of {@code array_map_update_elem} and {@code bpf_percpu_array_update}, in their
     * order: flags (EINVAL), index (E2BIG), then BPF_NOEXIST, which fails on an element that always
     * exists (EEXIST).
     */
    final void checkUpdate(int key, int flags) {
        if (!BpfUpdateFlags.isValid(flags)) {
            throw badFlags(flags);
        }
        if (!contains(key)) {
            throw outOfRange(Errno.E2BIG, key);
        }
        if (flags == BpfUpdateFlags.BPF_NOEXIST) {
            throw error(Errno.EEXIST, "key " + key + ": array elements always exist, so BPF_NOEXIST fails");
        }
    }

    final KernelException outOfRange(Errno errno, int key) {
        return error(errno, "key " + Integer.toUnsignedString(key) + " is outside [0, " + maxEntries() + ")");
    }
}
