package dev.gtramp.kernel.bpf;

/**
 * A tracing program's {@code expected_attach_type} ({@code enum bpf_attach_type}): which trampoline
 * list it joins and whether it attaches to one function or, through a tracing multi link, to many.
 */
public enum BpfAttachType {
    /** {@code BPF_TRACE_FENTRY}. */
    TRACE_FENTRY(BpfTrampKind.FENTRY, false),
    /** {@code BPF_TRACE_FEXIT}. */
    TRACE_FEXIT(BpfTrampKind.FEXIT, false),
    /** {@code BPF_MODIFY_RETURN}. */
    MODIFY_RETURN(BpfTrampKind.MODIFY_RETURN, false),
    /** {@code BPF_TRACE_FENTRY_MULTI}: {@code SEC("fentry.multi/...")}. */
    TRACE_FENTRY_MULTI(BpfTrampKind.FENTRY, true),
    /** {@code BPF_TRACE_FEXIT_MULTI}: {@code SEC("fexit.multi/...")}. */
    TRACE_FEXIT_MULTI(BpfTrampKind.FEXIT, true),
    /** {@code BPF_MODIFY_RETURN_MULTI}: {@code SEC("fmod_ret.multi/...")}. */
    MODIFY_RETURN_MULTI(BpfTrampKind.MODIFY_RETURN, true);

    private final BpfTrampKind kind;
    private final boolean multi;

    BpfAttachType(BpfTrampKind kind, boolean multi) {
        this.kind = kind;
        this.multi = multi;
    }

    /** The trampoline list a program of this type joins ({@code bpf_attach_type_to_tramp}). */
    public BpfTrampKind kind() {
        return kind;
    }

    /**
     * Whether programs of this type are verified against the untyped {@code bpf_multi_func}
     * prototype and attach through a tracing multi link.
     */
    public boolean isMulti() {
        return multi;
    }

    /** The multi form of this type ({@code bpf_to_tracing_multi}); a multi type is its own. */
    public BpfAttachType multi() {
        return switch (kind) {
            case FENTRY -> TRACE_FENTRY_MULTI;
            case FEXIT -> TRACE_FEXIT_MULTI;
            case MODIFY_RETURN -> MODIFY_RETURN_MULTI;
        };
    }

    /** The {@code SEC()} prefix libbpf gives this type. */
    public String section() {
        String base = switch (kind) {
            case FENTRY -> "fentry";
            case FEXIT -> "fexit";
            case MODIFY_RETURN -> "fmod_ret";
        };
        return multi ? base + ".multi" : base;
    }
}
