package dev.gtramp.kernel.image;

/**
 * Why a BTF function is, or is not, traceable in the model: whether it has an ftrace patch site
 * ({@code dyn_ftrace} record) that fentry/fexit programs can be attached through.
 *
 * <p>The real list ({@code available_filter_functions}) comes from the {@code __mcount_loc} table
 * the build writes; BTF and kallsyms do not carry it. The image decides from what they do carry, in
 * this order, the first rule that applies giving the decision:
 * <ol>
 *   <li>no text symbol of that name in kallsyms: the function was inlined everywhere or is not in
 *       the core kernel ({@link #NOT_IN_KALLSYMS});</li>
 *   <li>an address in a section the kernel compiles without {@code -mfentry} or never patches:
 *       {@code .entry.text}/{@code .irqentry.text} ({@link #ENTRY_TEXT}), {@code .noinstr.text}
 *       including {@code .cpuidle.text} ({@link #NOINSTR_TEXT}: {@code noinstr} implies
 *       {@code notrace}), {@code .init.text} whose ftrace records {@code ftrace_free_init_mem}
 *       drops after boot ({@link #INIT_TEXT}), or outside {@code [_stext, _etext)}
 *       ({@link #OUTSIDE_TEXT});</li>
 *   <li>no {@code __pfx_} label 16 bytes before it: not compiled with call padding and an fentry
 *       site, like hand-written assembly ({@link #NO_PADDING});</li>
 *   <li>on the verifier's {@code btf_id_deny} list, which BPF tracing refuses because tracing it
 *       would recurse into the trampoline's own code ({@link #BPF_DENIED});</li>
 *   <li>otherwise {@link #TRACEABLE}.</li>
 * </ol>
 * Files built with {@code CFLAGS_REMOVE_... = $(CC_FLAGS_FTRACE)} (all of {@code kernel/trace/},
 * for example) still pass these rules: nothing in BTF or kallsyms tells them apart. The model
 * therefore counts a few more traceable functions than the 48,514 patch sites the real kernel
 * reported, in exchange for deciding from the data alone.
 */
public enum TraceDecision {
    TRACEABLE("no rule excludes it; a patch site assumed (BTF and kallsyms do not carry __mcount_loc)"),
    NOT_IN_KALLSYMS("in BTF but no text symbol in kallsyms (inlined, or not in the core kernel)"),
    ENTRY_TEXT("in .entry.text/.irqentry.text, built without fentry sites"),
    NOINSTR_TEXT("in .noinstr.text (noinstr implies notrace)"),
    INIT_TEXT("in .init.text, whose ftrace records are dropped after boot"),
    OUTSIDE_TEXT("outside [_stext, _etext)"),
    NO_PADDING("no __pfx_ padding label, so no fentry site (assembly or notrace build)"),
    BPF_DENIED("on the verifier's btf_id_deny list");

    private final String reason;

    TraceDecision(String reason) {
        this.reason = reason;
    }

    /** A one-line explanation of the decision. */
    public String reason() {
        return reason;
    }

    public boolean isTraceable() {
        return this == TRACEABLE;
    }
}
