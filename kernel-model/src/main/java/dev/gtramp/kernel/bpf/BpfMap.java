package dev.gtramp.kernel.bpf;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;

import java.util.Objects;

/**
 * {@code struct bpf_map}: what every map has, its type, name and {@code max_entries}. Programs,
 * Java code running on a bound {@link dev.gtramp.kernel.Cpu}, record into maps through their
 * program-side methods (the helpers and the element pointers a program gets); anything else reads
 * and writes them through their syscall-side methods, named after the {@code bpf()} commands
 * ({@code BPF_MAP_LOOKUP_ELEM} is {@code lookupElem}), which throw a {@link KernelException} with
 * the errno the command returns and a message naming the map and the key.
 *
 * <p>Each type's {@code create} factory is the {@code BPF_MAP_CREATE} command: it checks the
 * arguments as {@code map_create} and the type's {@code map_alloc_check} do. Maps hold no
 * reference to global state; the kernel they are created for gives them its CPU count.
 */
public abstract sealed class BpfMap permits ArrayMapBase, BpfHashMap, BpfRingBuf {
    /** {@code BPF_OBJ_NAME_LEN - 1}: the longest name, the kernel keeping a byte for the NUL. */
    public static final int MAX_NAME_LENGTH = 15;

    private final String name;
    private final BpfMapType type;
    private final int maxEntries;

    /**
     * @throws KernelException EINVAL naming the map if the name is longer than
     *                         {@link #MAX_NAME_LENGTH} or has a character other than a letter,
     *                         digit, {@code _} or {@code .} ({@code bpf_obj_name_cpy}), or if
     *                         {@code maxEntries} is not positive
     */
    BpfMap(String name, BpfMapType type, int maxEntries) {
        this.name = Objects.requireNonNull(name, "name");
        this.type = type;
        this.maxEntries = maxEntries;
        if (name.length() > MAX_NAME_LENGTH) {
            throw error(Errno.EINVAL, "name longer than " + MAX_NAME_LENGTH + " characters");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean alnum = c < 0x80 && Character.isLetterOrDigit(c);
            if (!alnum && c != '_' && c != '.') {
                throw error(Errno.EINVAL, "name has character '" + c + "'; names take letters, digits, _ and .");
            }
        }
        if (maxEntries <= 0) {
            throw error(Errno.EINVAL, "max_entries " + maxEntries + " is not positive");
        }
    }

    /** {@code map->name}. */
    public final String name() {
        return name;
    }

    /** {@code map->map_type}. */
    public final BpfMapType type() {
        return type;
    }

    /**
     * {@code map->max_entries}: the number of elements, or for a {@link BpfRingBuf} the size of its
     * data area in bytes.
     */
    public final int maxEntries() {
        return maxEntries;
    }

    /** An error of this map: its errno and a message that starts with the map's type and name. */
    final KernelException error(Errno errno, String what) {
        return new KernelException(errno, this + ": " + what);
    }

    /** The syscall's EINVAL for update flags {@link BpfUpdateFlags#isValid} rejects. */
    final KernelException badFlags(int flags) {
        return error(Errno.EINVAL, "update flags " + flags + " are not BPF_ANY, BPF_NOEXIST or BPF_EXIST");
    }

    @Override
    public String toString() {
        return type.kernelName() + " '" + name + "'";
    }
}
