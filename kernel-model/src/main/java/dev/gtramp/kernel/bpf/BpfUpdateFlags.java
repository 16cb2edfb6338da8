package dev.gtramp.kernel.bpf;

/**
 * The {@code flags} of {@code bpf_map_update_elem} ({@code include/uapi/linux/bpf.h}), the helper
 * and the {@code BPF_MAP_UPDATE_ELEM} command alike. {@code BPF_F_LOCK} is not modelled: like any
 * other value above {@link #BPF_EXIST}, it fails with {@code EINVAL}.
 */
public final class BpfUpdateFlags {
    /** {@code BPF_ANY}: create a new element or update an existing one. */
    public static final int BPF_ANY = 0;
    /** {@code BPF_NOEXIST}: create a new element only if it did not exist ({@code EEXIST} otherwise). */
    public static final int BPF_NOEXIST = 1;
    /** {@code BPF_EXIST}: update an existing element only ({@code ENOENT} otherwise). */
    public static final int BPF_EXIST = 2;

    private BpfUpdateFlags() {
    }

    /** {@code !((map_flags & ~BPF_F_LOCK) > BPF_EXIST)} with the flags as the kernel's u64. */
    static boolean isValid(int flags) {
        return flags >= BPF_ANY && flags <= BPF_EXIST;
    }
}
