package dev.gtramp.kernel.bpf;

/**
 * {@code enum bpf_tramp_prog_type}: the three lists of a trampoline, in the order its code runs them
 * around the origin call.
 */
public enum BpfTrampKind {
    /** {@code BPF_TRAMP_FENTRY}: before the function, seeing its arguments. */
    FENTRY,
    /** {@code BPF_TRAMP_FEXIT}: after the function, seeing its arguments and its return value. */
    FEXIT,
    /**
     * {@code BPF_TRAMP_MODIFY_RETURN}: after the fentry programs and before the function; a non-zero
     * return skips the function (and the remaining fmod_ret programs) and becomes its return value.
     */
    MODIFY_RETURN;

    /** Whether a trampoline with programs of this kind calls the function itself ({@code BPF_TRAMP_F_CALL_ORIG}). */
    public boolean needsOriginCall() {
        return this != FENTRY;
    }
}
